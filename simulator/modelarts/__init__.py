"""ModelArts API families, one module each."""
