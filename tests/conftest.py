"""Test setup lives in the repository's root conftest.py (shared with the doctests)."""
