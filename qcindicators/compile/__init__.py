"""Definitions → a plan of scans and indicator nodes. Knows nothing of pandas."""
