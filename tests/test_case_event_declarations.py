"""The declarations of the case-event kinds (`assembly.cases.events`) against the columns their
values are stored in, and against everything derived from them: the inbox forms, the CSV
import's columns, the API's request models and the OpenAPI document. A limit changed in one
place only, or a column resized without its limit, fails here."""
from __future__ import annotations

import pytest
from sqlalchemy import String
from wtforms.validators import InputRequired, Length

from assembly.api import openapi, schemas
from assembly.cases import events, outcome_rows
from assembly.cases.events import FieldType
from assembly.cases.forms import EVENT_FORMS
from assembly.cases.models import CaseEvent, Decision

FIELDS = sorted({(kind.name, field.name): (kind, field) for kind in events.KINDS.values()
                 for field in kind.fields}.items())
TEXTS = (FieldType.TEXT, FieldType.URL, FieldType.BODY)


def _length(column) -> int | None:
    kind = column.property.columns[0].type
    return kind.length if isinstance(kind, String) else None


@pytest.mark.parametrize("key, declared", FIELDS, ids=[f"{kind}.{field}" for (kind, field), _ in FIELDS])
def test_every_limit_is_the_size_of_the_column_it_is_stored_in(key, declared):
    _kind, field = declared
    assert field.stored_in, f"{key}: say where the value is stored"
    sizes = [size for size in map(_length, field.stored_in) if size is not None]
    if field.type in TEXTS:
        assert sizes, f"{key}: a text limited by nothing"
        assert field.max_length == min(sizes), (
            f"{key}: the declared limit {field.max_length} differs from its column size {min(sizes)}")
    else:
        assert field.max_length is None


def test_the_note_fits_the_case_it_becomes_the_covering_note_of_in_a_referral():
    assert events.NOTE.max_length == _length(events.Case.note) == 2000
    assert {kind.field("note").max_length for kind in events.KINDS.values()} == {events.NOTE.max_length}


def test_stored_names_fit_their_columns():
    assert max(map(len, events.TIMELINE_KINDS)) <= _length(CaseEvent.kind)
    assert max(len(decision.value) for decision in Decision) <= _length(events.DECISION.stored_in[0])


@pytest.mark.parametrize("kind", list(events.KINDS))
def test_the_inbox_form_is_the_declaration(kind):
    declared = events.KINDS[kind]
    form_class = EVENT_FORMS[kind]
    form_fields = [name for name in vars(form_class) if name in declared.names]
    assert form_fields == list(declared.names)
    for field in declared.fields:
        validators = getattr(form_class, field.name).kwargs["validators"]
        limits = [validator.max for validator in validators if isinstance(validator, Length)]
        assert limits == ([field.max_length] if field.max_length and field.type != FieldType.BODY else [])
        required = any(isinstance(validator, InputRequired) for validator in validators) or any(
            type(validator).__name__ == "DataRequired" for validator in validators)
        assert required == (field.name in declared.required)


def test_the_csv_columns_are_the_declared_fields():
    declared = {field.name for kind in events.KINDS.values() for field in kind.fields if field.in_csv}
    assert set(outcome_rows.REQUIRED_COLUMNS[3:]) | set(outcome_rows.OPTIONAL_COLUMNS) == declared
    assert outcome_rows.STEPS == tuple(events.KINDS)
    assert "refer_to" not in outcome_rows.OPTIONAL_COLUMNS  # a referral makes a case: the inbox only


@pytest.mark.parametrize("kind", list(events.KINDS))
def test_the_openapi_request_schema_is_the_declaration(kind):
    declared = events.KINDS[kind]
    schema = openapi.document()["components"]["schemas"][declared.schema_name]
    assert list(schema["properties"]) == ["kind", *declared.names]
    assert set(schema["required"]) == {"kind", *declared.required}
    assert schema["additionalProperties"] is False
    for field in declared.fields:
        assert schema["properties"][field.name].get("maxLength") == field.max_length
    mapping = openapi.document()["components"]["schemas"]["EventInput"]["discriminator"]["mapping"]
    assert mapping[kind] == f"#/components/schemas/{declared.schema_name}"


def test_the_api_model_and_the_service_agree_on_what_is_valid(ctx):
    """What the request model lets through, events.clean checks further; never the reverse."""
    kind = events.KINDS["scheduled"]
    fields, problems = schemas.event_input(kind, {"kind": "scheduled", "meeting_at": "2026-12-01T18:00:00+03:00",
                                                  "agenda_number": "  41  "})
    assert problems == {}
    assert events.clean("scheduled", fields)["agenda_number"] == "41"
    _fields, problems = schemas.event_input(kind, {"kind": "scheduled", "meeting_at": "tomorrow", "room": 4})
    assert set(problems) == {"meeting_at", "room"}


def test_clean_names_every_wrong_field_at_once(ctx):
    with pytest.raises(events.ValidationFailed) as refused:
        events.clean("scheduled", {"meeting_at": None, "agenda_number": "x" * 41, "record_url": "ftp://x",
                                   "note": "n" * 2001, "progress": 5})
    assert set(refused.value.reasons) == {"meeting_at", "agenda_number", "record_url", "note", "progress"}
    assert refused.value.reasons["agenda_number"] == ["Give at most 40 characters."]
    assert refused.value.reasons["meeting_at"] == ["Give the date of the council meeting."]
