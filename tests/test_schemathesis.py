"""The API against its own OpenAPI document: schemathesis generates valid and invalid requests for
every operation (as an operator, so that requests get past authentication and reach the
handlers) and checks that none gives a server error, every status is documented, every response
matches its schema (errors included: one shape), every request valid by the schema is accepted
(``positive_data_acceptance``, ST202), and a method the path does not take is answered 405 with
an ``Allow`` header (``unsupported_method``, ST204). Runs on SQLite and PostgreSQL.

Why: a hand-written test only tries what its author thought of; the OpenAPI document is also a
promise to every relying party's client generator, so a response that breaks it is a bug, and so
is a request the document calls valid that the server refuses.

Identity codes carry check characters, a birth date and a region that JSON Schema cannot state;
the schema names them by the format ``identity-code`` (``codes.FORMAT``), and this test registers
that format's generator (valid resident ID numbers and USCCs), as a client generator would.

(The operations are walked inside one test per mode rather than through
``schema.parametrize()``, whose lazy fixture loader does not work with pytest 9.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import CoverageScenario, coverage_scenario
from schemathesis.specs.openapi.checks import unsupported_method

from socialcredit import codes, documents
from socialcredit.api import create_app
from socialcredit.api.keymodels import HOLDER_FORMAT
from socialcredit.service import System
from tests.conftest import org, person

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

# valid codes of both kinds: the format's generator (birth dates and regions that exist)
IDENTITY_CODES = st.one_of(
    st.integers(0, 999).map(person),
    st.builds(person, st.integers(0, 999), born=st.just("19491231"), region=st.just("110105")),
    st.integers(0, 999_999).map(org),
)
schemathesis.openapi.format(codes.FORMAT, IDENTITY_CODES)
# an operator key's holder: 1 to 64 printable characters, not all spaces (access.holder_name)
HOLDER_NAMES = st.builds(
    str.__add__,
    st.text(st.characters(exclude_categories=["C", "Z"]), min_size=1, max_size=20),
    st.text(st.characters(categories=["L", "N", "P", "S"]) | st.just(" "), max_size=20),
)
schemathesis.openapi.format(HOLDER_FORMAT, HOLDER_NAMES)
# a document in its written form, valid by its standard (linked to nobody: the server answers 404)
DOCUMENTS = st.one_of(
    st.from_regex(r"passport:CHN:E[0-9]{8}", fullmatch=True),
    st.from_regex(r"hkm-permit:H[0-9]{8}", fullmatch=True),
    st.from_regex(r"tw-permit:[0-9]{8}", fullmatch=True),
)
schemathesis.openapi.format(documents.FORMAT, DOCUMENTS)
# a residence permit for Hong Kong, Macao and Taiwan residents: a person code of those regions
PERMITS = st.builds(person, st.integers(0, 999), region=st.sampled_from(["810000", "820000", "830000"]))
schemathesis.openapi.format(documents.PERMIT_FORMAT, PERMITS)


def _schema(system: System) -> tuple[Any, dict[str, str]]:
    token = system.create_key("operator", "schemathesis", name="schemathesis").token
    # The operator's key in both headers the API accepts, so generated auth headers cannot hide
    # the handlers behind a 401.
    auth = {"Authorization": f"Bearer {token}", "X-API-Key": token}
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(system), config=CONFIG), auth


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_keeps_its_openapi_promises(system: System, mode: GenerationMode) -> None:
    schema, auth = _schema(system)
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
            case.call_and_validate(headers=auth)  # every default check, positive data acceptance too

        try:
            run()
        except Unsatisfiable:
            # an operation without parameters or body has no invalid request to generate
            assert mode == GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert operations >= 10
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


def test_a_method_a_path_does_not_take_is_405_with_allow(system: System) -> None:
    """Schemathesis's coverage phase sends each path every method its operations do not declare;
    each must be answered 405 with the methods it takes in ``Allow`` (RFC 9110)."""
    schema, auth = _schema(system)
    failures: dict[str, str] = {}
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        generation = schema.config.generation_for(operation=operation, phase="coverage")
        for case in schema.iter_coverage_cases(
            operation, generation_modes=[GenerationMode.NEGATIVE], generation_config=generation
        ):
            if coverage_scenario(case) != CoverageScenario.UNSPECIFIED_HTTP_METHOD:
                continue
            sent += 1
            try:
                case.call_and_validate(headers=auth, checks=[unsupported_method])
            except (Exception, BaseExceptionGroup) as exc:
                failures[f"{case.method} {operation.path}"] = f"{type(exc).__name__}: {exc}"[:1000]
    assert sent >= 20
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
