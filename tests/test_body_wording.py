"""The case lifecycle speaks the language of the body (issue 11, point 3): a council puts an item
on its agenda, a utility schedules work, the police plan an action; nothing council-only is shown
for a body that has no council."""
from __future__ import annotations

import pytest

from assembly.cases import services as cases
from assembly.cases import wording
from assembly.cases.models import CaseStatus
from assembly.neighbourhoods.models import BodyKind
from tests import case_factories as cf
from tests import factories
from tests.assembly_factories import client_of, committed
from tests.support import text, translation

COUNCIL_WORDS = ("council", "agenda")


def _scheduled_case(app, kind: str):
    with committed(app):
        w = cf.world()
        body = w.body if kind == "council" else factories.body(w.municipality, kind=kind)
        staff = w.staff if kind == "council" else factories.staff(body)
        case = cf.forwarded(w, factories.now(), body=body)
        cases.apply_event(staff, factories.now(), case, "received", {})
        cases.apply_event(staff, factories.now(), case, "scheduled",
                          {"meeting_at": factories.now(), "agenda_number": "A-7"})
        return case.reference, body.id, staff


@pytest.mark.parametrize("kind", [k.value for k in BodyKind])
def test_every_kind_has_every_word(app, kind):
    with app.test_request_context():
        words = {key: wording.label(kind, key, num="7") if key == "agenda_item" else wording.label(kind, key)
                 for key in wording.KEYS}
        assert all(words.values())
        said = " ".join(words.values()).lower()
        if wording.family(kind) == wording.COUNCIL:
            assert "council" in said
        else:
            assert not any(word in said for word in COUNCIL_WORDS), words
        assert wording.status_label(CaseStatus.SCHEDULED.value, None, kind) == words["scheduled"]
        assert wording.status_label(CaseStatus.DONE.value, None, kind) == "Done"


@pytest.mark.parametrize("locale", ["tr", "fa", "sv"])
def test_the_words_of_every_kind_are_translated(app, locale):
    with app.test_request_context():  # English texts are the message ids
        texts = {wording.label(kind.value, key) for kind in BodyKind for key in wording.KEYS}
    missing = [msgid for msgid in texts if translation(locale, msgid) is None]
    assert missing == []


@pytest.mark.parametrize("kind, shown, hidden", [
    ("police", ["Action planned", "Planned for", "reference A-7"], ["council", "agenda"]),
    ("utility", ["Work scheduled", "Work planned for", "work order A-7"], ["council", "agenda"]),
    ("council", ["On the council's agenda", "Council meeting", "agenda item A-7"], []),
])
def test_the_case_page_and_inbox_use_the_bodys_words(app, kind, shown, hidden):
    reference, body_id, staff = _scheduled_case(app, kind)
    public = text(client_of(app).get(f"/cases/{reference}"))
    for words in shown:
        assert words in public
    lowered = public.lower()
    for words in hidden:
        assert words not in lowered.replace("track a case", "")
    inbox = text(client_of(app, staff).get(f"/staff/bodies/{body_id}"))
    assert shown[0] in inbox
    for words in hidden:
        assert words not in inbox.lower()


def test_staff_of_a_utility_fill_in_work_words_and_a_missing_date_says_so(app):
    reference, _body, staff = _scheduled_case(app, "utility")
    client = client_of(app, staff)
    with committed(app):
        from assembly.cases.models import Case
        from assembly.db import db
        from sqlalchemy import select
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        cases.apply_event(staff, factories.now(), case, "decided", {"decision": "deferred"})
    page = text(client.get(f"/cases/{reference}"))
    assert "Work order number" in page and "Link to the company's own record" in page
    assert "Agenda number" not in page
    response = client.post(f"/cases/{reference}/events/scheduled", data={"meeting_at": "", "agenda_number": "W-1"})
    assert response.status_code == 400
    assert "Give the date the work is planned for." in text(response)
