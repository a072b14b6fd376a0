"""Photos attached to things residents write (proposals first; see services.register_owner)."""
