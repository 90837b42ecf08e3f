"""The API against its own OpenAPI document (schemathesis, a fixed example budget): no server
error, every answer a documented status with the documented shape and content type."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from truecost.web import create_app  # noqa: E402

# Jobs in threads: schemathesis drives the ASGI app without its lifespan, one event loop per call.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(processes=False, deadline_s=10))

EXAMPLES_PER_OPERATION = 6


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    # Any object is a schema-valid `scenario` and any string a schema-valid `yaml`, but only one
    # within the physical bounds (checked by the scenario models, with cross-field rules JSON
    # Schema cannot state) is a scenario: a 422 naming the field is the right answer there, so
    # "schema-valid data accepted" does not apply. Every other check does: no server error,
    # documented status codes, content types and bodies, invalid data refused.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
