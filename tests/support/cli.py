"""Running the command line in process (Typer's runner), for the tests of its commands; the
``env`` fixture (tests/conftest.py) points it at the test's store."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from socialcredit.cli import app

runner = CliRunner()


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    return result


def jrun(*args: str) -> Any:
    """``run`` with ``--json``: the parsed answer of a command that worked (status 0 or 1)."""
    result = run(*args, "--json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)
