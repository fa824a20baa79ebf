"""Engines run a plan. The pandas engine is the default; others can run the same plan."""
