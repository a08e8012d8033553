"""Reads its requests and never answers any (not even Info)."""
import rawudf

while rawudf.read_request() is not None:
    pass
