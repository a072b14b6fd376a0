"""Words of the case lifecycle that depend on the kind of body the case is at.

A council puts an item on the agenda of a meeting, with an agenda item number; the police, a
utility or a health directorate plan the work and give it a reference of their own. The lifecycle
(statuses, transitions, stored fields) is the same for every body; only what people read differs:
`label(kind, key)` gives the words, `status_label(status, decision, kind)` the status as shown.

Kinds (see `BodyKind`) fall into three families:
  council  — council (an elected council deciding at its meetings)
  utility  — utility (work orders)
  service  — district administrations, police, health and other public bodies (an action planned
             for a date, with the body's own reference number)
"""
from __future__ import annotations

from flask_babel import gettext as _

from assembly.cases.models import CaseStatus
from assembly.cases.models import status_label as _lifecycle_label
from assembly.neighbourhoods.models import BodyKind

COUNCIL, UTILITY, SERVICE = "council", "utility", "service"

FAMILIES = {
    BodyKind.COUNCIL.value: COUNCIL, BodyKind.DISTRICT.value: SERVICE,
    BodyKind.UTILITY.value: UTILITY,
    BodyKind.POLICE.value: SERVICE, BodyKind.HEALTH.value: SERVICE, BodyKind.OTHER.value: SERVICE,
}

KEYS = ("scheduled", "meeting_at", "agenda_number", "record_url", "agenda_item", "record_link", "meeting_required")


def family(kind: str | None) -> str:
    """A body of unknown kind is spoken of as a council: the lifecycle's original words."""
    return FAMILIES.get(kind or "", COUNCIL)


def _council(key: str) -> str:
    return {
        "scheduled": _("On the council's agenda"),
        "meeting_at": _("Council meeting"),
        "agenda_number": _("Agenda number"),
        "record_url": _("Link to the council's own record"),
        "agenda_item": _("agenda item %(num)s"),
        "record_link": _("council record"),
        "meeting_required": _("Give the date of the council meeting."),
    }[key]


def _utility(key: str) -> str:
    return {
        "scheduled": _("Work scheduled"),
        "meeting_at": _("Work planned for"),
        "agenda_number": _("Work order number"),
        "record_url": _("Link to the company's own record"),
        "agenda_item": _("work order %(num)s"),
        "record_link": _("the company's record"),
        "meeting_required": _("Give the date the work is planned for."),
    }[key]


def _service(key: str) -> str:
    return {
        "scheduled": _("Action planned"),
        "meeting_at": _("Planned for"),
        "agenda_number": _("The body's reference number"),
        "record_url": _("Link to the body's own record"),
        "agenda_item": _("reference %(num)s"),
        "record_link": _("the body's record"),
        "meeting_required": _("Give the date the action is planned for."),
    }[key]


_WORDS = {COUNCIL: _council, UTILITY: _utility, SERVICE: _service}


def label(kind: str | None, key: str, **values) -> str:
    """The words for `key` (one of KEYS) at a body of `kind`, in the reader's language."""
    text = _WORDS[family(kind)](key)
    return text % values if values else text


def status_label(status: str, decision: str | None = None, kind: str | None = None) -> str:
    if status == CaseStatus.SCHEDULED.value:
        return label(kind, "scheduled")
    return _lifecycle_label(status, decision)


def for_kind(kind: str | None):
    """`status_label` bound to one body's kind, for templates: `status_label(status, decision)`."""
    def bound(status: str, decision: str | None = None) -> str:
        return status_label(status, decision, kind)
    return bound
