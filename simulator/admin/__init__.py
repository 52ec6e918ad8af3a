"""Test controls under /_sim: health, reset, clock."""
