"""Citizen promises and neighbourhood programmes (see docs/promises.md)."""
