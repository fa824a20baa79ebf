"""Schema checks of the canonical tables (pandera for per-column rules; our own for rules across columns and tables)."""
