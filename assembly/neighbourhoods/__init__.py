"""Municipalities, neighbourhoods, bodies, categories and verified membership."""
