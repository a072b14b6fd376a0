"""The kinds of things photos can be attached to (a proposal, a meeting's question, a step of a
commitment's progress), each registered once by its own domain with `register_owner`.

Kept apart from `photos.services` so that the model (`Photo.owner`) and the policy module
(`permissions`, which decides who may hide a photo by its owner's `hide_action`) can read the
registry without importing the services, which import them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from assembly.errors import NotFound


@dataclass(frozen=True)
class Owner:
    """A kind of thing photos can be attached to. The actions are policy actions
    (`assembly.permissions`) asked about the owner object."""

    kind: str                              # stored in Photo.owner_kind (at most 20 characters)
    load: Callable[[int], Any]             # the owner by its id, or None
    attach_action: str                     # may attach photos to it
    view_action: str                       # may see it (and so its photos)
    hide_action: str                       # may hide its photos (with a public reason) and show them again
    neighbourhood_id: Callable[[Any], int]  # the neighbourhood the photo is filed under
    url: Callable[[Any], str]              # the page that shows the owner and its photos
    removable: bool = True                 # may the uploader take a photo back (not from a hash-chained step)


OWNERS: dict[str, Owner] = {}


def register_owner(owner: Owner) -> None:
    if len(owner.kind) > 20:
        raise ValueError("an owner kind has at most 20 characters")
    OWNERS[owner.kind] = owner


def owner_of(kind: str) -> Owner:
    try:
        return OWNERS[kind]
    except KeyError:
        raise NotFound(_("There is no such photo.")) from None
