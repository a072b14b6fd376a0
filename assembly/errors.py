"""Domain errors raised by services; views turn them into form errors or 403/404."""
from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request. `message` is already translated."""

    def __init__(self, message: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The acting user may not do this."""


class NotFound(DomainError):
    """The object does not exist or is not visible to the acting user."""


class InvalidTransition(DomainError):
    """The object's lifecycle does not allow this move from its current state."""


class ValidationFailed(DomainError):
    """Input broke one or more rules; `reasons` maps field names (or None) to messages."""

    def __init__(self, reasons: dict[str | None, list[str]] | str, field: str | None = None) -> None:
        if isinstance(reasons, str):
            reasons = {field: [reasons]}
        self.reasons = reasons
        first = next((m for msgs in reasons.values() for m in msgs), "")
        super().__init__(first, field)
