"""Checking a published vote without a terminal: the ballots file someone downloaded is
fingerprinted and recounted by the same counting code, then compared with what was published.

Nothing of the file is kept: it is read from the request, checked, and forgotten.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask_babel import gettext as _

from assembly import tally
from assembly.assemblies.models import BallotResult


@dataclass(frozen=True)
class FileCheck:
    fingerprint: str              # SHA-256 of the bytes as received
    same_file: bool               # byte for byte the published file
    same_content: bool            # the same ballots and rules, perhaps laid out differently
    recount: dict | None          # the result counted again from the file
    same_result: bool             # the recount equals the published result
    problem: str | None = None    # why the file could not be counted, in the reader's language


def published_bytes(result: BallotResult) -> bytes:
    """The ballots file as served: exactly the bytes whose SHA-256 is the published fingerprint."""
    return tally.canonical_json(result.document)


def check_file(data: bytes, published: BallotResult) -> FileCheck:
    fingerprint = hashlib.sha256(data).hexdigest()
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return FileCheck(fingerprint, False, False, None, False,
                         _("This is not a ballots file: it is not JSON text."))
    try:
        recount = tally.tally_document(document).to_dict()
        same_content = tally.digest(document) == published.digest
    except tally.TallyError as error:
        where = f" ({error.where})" if error.where else ""
        return FileCheck(fingerprint, False, False, None, False,
                         _("This file cannot be counted: %(reason)s", reason=f"{error.code}{where}"))
    except (TypeError, ValueError):
        return FileCheck(fingerprint, False, False, None, False,
                         _("This file cannot be counted: %(reason)s", reason="invalid"))
    return FileCheck(fingerprint, fingerprint == published.digest, same_content, recount,
                     recount == published.result)
