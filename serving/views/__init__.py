"""The /hub endpoint: the Hub's read API (api.py) and file downloads (files.py)."""
