"""Sealed envelopes for secret votes: authenticated encryption under a key kept out of the
database, padded to one length per ballot.

While voting is open a secret vote waits beside its participation, sealed; only the closing
transaction opens the envelopes (see `voting.close_ballot`). Someone who reads the database
sees who voted and an envelope of the same size as everyone else's; without the key, nothing
of its content. The key is derived per ballot from `BALLOT_SEAL_KEY` (HKDF-SHA256), and each
envelope is bound to its ballot and voter (associated data), so an envelope copied to another
participation or ballot does not open.
"""
from __future__ import annotations

import functools
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
NONCE_BYTES = 12
PAD_BLOCK = 64


class EnvelopeError(RuntimeError):
    """An envelope that does not open: wrong key, or changed in the database."""


@functools.lru_cache(maxsize=64)
def _ballot_key(master: str, ballot_id: int) -> AESGCM:
    # Derived once per ballot and process: every vote, and every envelope opened at closing, needs it.
    key = HKDF(algorithm=SHA256(), length=32, salt=None,
               info=f"assembly/ballot-seal/v1/{ballot_id}".encode()).derive(master.encode())
    return AESGCM(key)


def _associated_data(ballot_id: int, user_id: int) -> bytes:
    return f"ballot={ballot_id};voter={user_id}".encode()


def padded_size(item_ids: list[str]) -> int:
    """One plaintext length for every vote of a ballot, whatever it says: the longest
    canonical vote (every item, the longest choice word) rounded up to whole blocks."""
    longest_id = max((len(item) for item in item_ids), default=1)
    # Per item at most `"id":"abstain",` (yes/no); approval `"id",` and ranked `["id"],` are shorter.
    bound = 2 + len(item_ids) * (longest_id + 13)
    return -(-bound // PAD_BLOCK) * PAD_BLOCK


def _encode(vote, size: int) -> bytes:
    raw = json.dumps(vote, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    if len(raw) > size:
        raise ValueError("vote longer than the ballot's envelope")
    return raw + b" " * (size - len(raw))  # JSON ignores trailing white space


def seal(master: str, ballot_id: int, user_id: int, vote, size: int) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _ballot_key(master, ballot_id).encrypt(nonce, _encode(vote, size), _associated_data(ballot_id, user_id))
    return VERSION + nonce + sealed


def unseal(master: str, ballot_id: int, user_id: int, envelope: bytes):
    envelope = bytes(envelope)
    if envelope[:1] != VERSION:
        raise EnvelopeError("unknown envelope version")
    nonce, sealed = envelope[1:1 + NONCE_BYTES], envelope[1 + NONCE_BYTES:]
    try:
        plain = _ballot_key(master, ballot_id).decrypt(nonce, sealed, _associated_data(ballot_id, user_id))
    except InvalidTag:
        raise EnvelopeError("an envelope does not open: wrong BALLOT_SEAL_KEY, or changed in the database") \
            from None
    return json.loads(plain)
