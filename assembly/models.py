"""Import every model so that the metadata is complete (Alembic, tests)."""
from assembly.accounts.models import LoginSession, PasswordResetToken, User
from assembly.assemblies.models import AgendaItem, Assembly, Ballot, BallotPaper, BallotResult, Participation
from assembly.audit.models import AuditEvent
from assembly.cases.models import ApiToken, Case, CaseConfirmation, CaseEvent, CaseSequence, IdempotentRequest
from assembly.db import Base
from assembly.neighbourhoods.models import (
    Body,
    BodyStaff,
    Category,
    InviteCode,
    Membership,
    Municipality,
    Neighbourhood,
)
from assembly.notifications.models import Notification, OutboxEmail
from assembly.photos.models import Photo
from assembly.proposals.models import (
    Comment,
    Follow,
    ModerationAction,
    Proposal,
    ProposalEvent,
    ProposalVersion,
    Report,
    Support,
)

__all__ = [
    "ApiToken", "Case", "CaseConfirmation", "CaseEvent", "Photo", "CaseSequence", "IdempotentRequest",
    "AgendaItem", "Assembly", "Ballot", "BallotPaper", "BallotResult", "Participation",
    "Comment", "Follow", "ModerationAction", "Proposal", "ProposalEvent", "ProposalVersion", "Report", "Support",
    "AuditEvent", "Base", "Body", "BodyStaff", "Category", "InviteCode", "LoginSession",
    "Membership", "Municipality", "Neighbourhood", "Notification", "OutboxEmail",
    "PasswordResetToken", "User",
]
