"""What the simulator holds, kept: rows of a data format (codec.py), the changes a call makes
(journal.py), and the whole of it as rows, for the data dir and for snapshots (image.py)."""
