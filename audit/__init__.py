"""Audit: what p2c did and why, read back from the staging database (status, runs, trace, prune)."""
