"""Secret tokens (login sessions, password resets, API tokens) are stored only as this hash."""
from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """SHA-256 is enough here: a token is 32 random bytes, not a guessable password."""
    return hashlib.sha256(token.encode()).hexdigest()
