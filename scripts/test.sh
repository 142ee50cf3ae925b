#!/usr/bin/env bash
# Set up (a virtual environment with everything the tests need) and run the whole test suite:
# unit, property, API, CLI and demo tests, each storage test on SQLite and on a real PostgreSQL
# started from the pgserver wheel, plus ruff and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
