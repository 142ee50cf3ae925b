"""The API against its own OpenAPI document: schemathesis generates valid and invalid requests for
every operation (as an operator, so that requests get past authentication and reach the
handlers) and checks that none gives a server error, every status is documented, and every
response matches its schema (errors included: one shape). Runs on SQLite and PostgreSQL.

Why: a hand-written test only tries what its author thought of; the OpenAPI document is also a
promise to every relying party's client generator, so a response that breaks it is a bug.

(The operations are walked inside one test per mode rather than through
``schema.parametrize()``, whose lazy fixture loader does not work with pytest 9.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from socialcredit.api import create_app
from socialcredit.service import System

# every operation, with generated requests: out of the inner loop (pytest -m "not slow"), in CI
pytestmark = pytest.mark.slow

EXAMPLES = 15
# An invalid request may also be refused as too large (413) before it is parsed: a list over its
# maxItems usually is (found when schemathesis generated 10,001 records, more than 8 MiB).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                ]
            }
        }
    }
)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_keeps_its_openapi_promises(system: System, mode: GenerationMode) -> None:
    token = system.create_key("operator", "schemathesis", name="schemathesis").token
    # The operator's key in both headers the API accepts, so generated auth headers cannot hide
    # the handlers behind a 401.
    auth = {"Authorization": f"Bearer {token}", "X-API-Key": token}
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(system), config=CONFIG)
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            # positive_data_acceptance is left out on purpose: a string can match the schema and
            # still be an invalid identity code (checksums are not JSON Schema), and 422 is right.
            case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])

        try:
            run()
        except Unsatisfiable:
            # an operation without parameters or body has no invalid request to generate
            assert mode == GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert operations >= 10
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
