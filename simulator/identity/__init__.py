"""Who is calling: accounts, AK/SK signatures, IAM tokens and the IAM endpoints."""
