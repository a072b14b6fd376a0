"""The OpenAPI document: valid OpenAPI 3, naming exactly the routes that exist, and schemathesis
finding no server error (nor an undocumented status, content type or body) in any operation."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from assembly.api import openapi
from tests import case_factories as cf
from tests import promise_factories as pr
from tests.api_support import bearer, committed, token_for

API_PREFIXES = ("/api/v1/", "/open311/v2/")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 25


def test_the_document_is_valid_openapi_3():
    validate(openapi.document())


def test_the_served_document_is_the_document_and_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == openapi.document()


def _documented() -> dict[str, set[str]]:
    return {path: {method.upper() for method in item} for path, item in openapi.document()["paths"].items()}


def _routes(app) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIXES):
            path = re.sub(r"<(?:[^<>]*:)?(\w+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_every_route_is_in_the_document_and_nothing_else(app):
    routes = _routes(app)
    assert len(routes) >= 9
    assert routes == _documented()


def test_every_operation_documents_its_errors():
    for path, item in openapi.document()["paths"].items():
        for method, operation in item.items():
            if path != "/api/v1/openapi.json":
                assert "429" in operation["responses"], (method, path)
            if operation.get("security") != []:
                assert "401" in operation["responses"], (method, path)


@pytest.fixture
def fuzz_site(app):
    with committed(app):
        w = cf.world()
        now = cf.factories.now()
        references = [cf.forwarded(w, now, f"Case {number}").reference for number in range(3)]
        references.append(cf.forwarded(w, now, "Police", body=w.other_body).reference)
        cf.walk(w, cf.forwarded(w, now, "Done"), now, "done")
        promise = pr.published(w, now)  # its first commitment is the token's body's: progress, photos and all
        token = token_for(w.staff, w.body)
    return {"token": token, "references": references, "body": w.other_body.slug,
            "commitment": (promise.id, promise.commitments[0].id)}


def _fuzz(app, operation, mode: GenerationMode, token: str, references: list[str],
          commitment: tuple[int, int]) -> None:
    known = st.sampled_from([None, *references])
    progress = "{commitment_id}" in operation.path  # the other operations draw as they did before

    @given(case=operation.as_strategy(generation_mode=mode), reference=known,
           real_commitment=st.booleans() if progress else st.just(False))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case, reference, real_commitment):
        if reference and "reference" in (case.path_parameters or {}):
            case.path_parameters["reference"] = reference  # reach real cases, not only 404s
        if real_commitment and "commitment_id" in (case.path_parameters or {}):
            # reach a real commitment, so that the bodies (JSON or multipart with photos) are read
            case.path_parameters["promise_id"], case.path_parameters["commitment_id"] = commitment
        case.headers = {**(case.headers or {}), **bearer(token)}  # a real token, not a generated one
        response = case.call()
        case.validate_response(response, checks=CHECKS if mode.is_positive else [not_a_server_error])

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error(app, fuzz_site, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {f"{method.upper()} {path}" for path, item in openapi.document()["paths"].items() for method in item}
    # schemathesis leaves out the document's own address, which the tests above cover
    assert {operation.label for operation in operations} == documented - {"GET /api/v1/openapi.json"}
    for operation in operations:
        _fuzz(app, operation, mode, fuzz_site["token"], fuzz_site["references"], fuzz_site["commitment"])
