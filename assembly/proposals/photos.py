"""Proposals as owners of photos (`photos.services.register_owner`): the author attaches photos
while writing a proposal, or later while it is a draft or open."""
from __future__ import annotations

import datetime as dt

from assembly.db import db
from assembly.photos import services as photos
from assembly.proposals import services
from assembly.proposals.models import Proposal
from assembly.proposals.services import ProposalInput

KIND = "proposal"

photos.register_owner(photos.Owner(
    kind=KIND, load=lambda owner_id: db.session.get(Proposal, owner_id),
    attach_action="attach_proposal_photo", view_action="view_proposal_photos", hide_action="hide_proposal_photo",
    neighbourhood_id=lambda proposal: proposal.neighbourhood_id, url=services.proposal_link))


def create_with_photos(actor, now: dt.datetime, neighbourhood, data: ProposalInput, uploads: list[photos.Upload],
                       *, publish: bool) -> Proposal:
    """A new proposal and its photos, all or nothing: the photos are checked before anything is written."""
    encoded = photos.prepare(uploads)
    proposal = services.create_proposal(actor, now, neighbourhood, data, publish=publish)
    photos.attach(actor, now, KIND, proposal, encoded)
    return proposal


def update_with_photos(actor, now: dt.datetime, proposal: Proposal, data: ProposalInput,
                       uploads: list[photos.Upload]) -> Proposal:
    encoded = photos.prepare(uploads, photos.count_of(KIND, proposal.id))
    services.update_proposal(actor, now, proposal, data)
    photos.attach(actor, now, KIND, proposal, encoded)
    return proposal


def photos_of(proposal_ids) -> dict[int, list]:
    return photos.photos_of(KIND, proposal_ids)
