#!/usr/bin/env bash
# Set up (a virtual environment with socialcredit installed) and run the demo: a synthetic city
# of 100,000 residents ingested, scored and listed, then the API served on 127.0.0.1:8000.
# Extra arguments go to `socialcredit demo` (e.g. --residents 20000 --no-serve).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/socialcredit demo "$@"
