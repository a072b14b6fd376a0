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
def _derived_key(master: str, info: str) -> AESGCM:
    # Derived once per ballot (or survey) and process: every vote, and every envelope opened at
    # closing, needs it.
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=info.encode()).derive(master.encode())
    return AESGCM(key)


def _ballot_key(master: str, ballot_id: int) -> AESGCM:
    return _derived_key(master, f"assembly/ballot-seal/v1/{ballot_id}")


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


def _seal(key: AESGCM, associated: bytes, content, size: int) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + key.encrypt(nonce, _encode(content, size), associated)


def _unseal(key: AESGCM, associated: bytes, envelope: bytes):
    envelope = bytes(envelope)
    if envelope[:1] != VERSION:
        raise EnvelopeError("unknown envelope version")
    nonce, sealed = envelope[1:1 + NONCE_BYTES], envelope[1 + NONCE_BYTES:]
    try:
        plain = key.decrypt(nonce, sealed, associated)
    except InvalidTag:
        raise EnvelopeError("an envelope does not open: wrong BALLOT_SEAL_KEY, or changed in the database") \
            from None
    return json.loads(plain)


def seal(master: str, ballot_id: int, user_id: int, vote, size: int) -> bytes:
    return _seal(_ballot_key(master, ballot_id), _associated_data(ballot_id, user_id), vote, size)


def unseal(master: str, ballot_id: int, user_id: int, envelope: bytes):
    return _unseal(_ballot_key(master, ballot_id), _associated_data(ballot_id, user_id), envelope)


# Survey answers wait in the same kind of envelope, under a key of their own per survey, bound to
# the survey and the respondent's identity (an account or a confirmed e-mail address's hash).

def _survey_key(master: str, survey_id: int) -> AESGCM:
    return _derived_key(master, f"assembly/survey-seal/v1/{survey_id}")


def _survey_data(survey_id: int, respondent: str) -> bytes:
    return f"survey={survey_id};respondent={respondent}".encode()


def seal_answers(master: str, survey_id: int, respondent: str, answers, size: int) -> bytes:
    return _seal(_survey_key(master, survey_id), _survey_data(survey_id, respondent), answers, size)


def unseal_answers(master: str, survey_id: int, respondent: str, envelope: bytes):
    return _unseal(_survey_key(master, survey_id), _survey_data(survey_id, respondent), envelope)
