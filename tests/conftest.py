"""Fixtures shared by the whole suite. Sample replies and builders live in ``tests/helpers.py``."""
