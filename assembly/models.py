"""Import every model so that the metadata is complete (Alembic, tests)."""
from assembly.accounts.models import LoginSession, PasswordResetToken, User
from assembly.audit.models import AuditEvent
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

__all__ = [
    "AuditEvent", "Base", "Body", "BodyStaff", "Category", "InviteCode", "LoginSession",
    "Membership", "Municipality", "Neighbourhood", "Notification", "OutboxEmail",
    "PasswordResetToken", "User",
]
