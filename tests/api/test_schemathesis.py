"""Property-based fuzzing of every operation against the app's own OpenAPI document.

schemathesis generates requests from /openapi.json (valid and invalid ones,
a bounded number per operation) and checks each answer: never a 5xx, the
status code declared for the operation, the declared content type, and a body
that matches the declared schema. This is what proves "no input ever causes a
500" and that the documentation tells the truth.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import Settings
from geo import load_dataset
from tests.api.http_server import REPO

MINI = REPO / "tests" / "data" / "mini"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES_PER_OPERATION = 25

# Loaded at import: schemathesis builds its test cases from the schema at collection time.
_DATASET = load_dataset(MINI)
# An admin token is configured so that /admin/reload answers 401 to the fuzzer (it never learns the token).
APP = create_app(Settings(dataset=MINI, admin_token="fuzz-never-guesses-this", batch_limit=50), dataset=_DATASET)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _running_app() -> None:
    """Run the app's lifespan (dataset warm-up) around the fuzzing."""
    with TestClient(APP):
        yield


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


def test_the_fuzzer_sees_every_operation() -> None:
    """Guards the test above: an operation missing from the schema would escape fuzzing."""
    operations = {(op.method.upper(), op.path) for op in (result.ok() for result in schema.get_all_operations())}
    for expected in [
        ("GET", "/lookup"),
        ("POST", "/lookup"),
        ("POST", "/lookup/csv"),
        ("GET", "/units/{unit_id}"),
        ("GET", "/ogc/collections/{collectionId}/items"),
        ("GET", "/ogc/collections/{collectionId}/items/{featureId}"),
        ("POST", "/admin/reload"),
        ("GET", "/coverage/unheld"),
    ]:
        assert expected in operations
