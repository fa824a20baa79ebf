"""Reading user files and frames into canonical tables."""
