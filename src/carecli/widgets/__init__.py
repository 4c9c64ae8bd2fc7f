"""Reusable widgets. Kept import-light: each module is imported where it is used."""
