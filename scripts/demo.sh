#!/usr/bin/env bash
# Set up (a virtual environment with socialcredit installed) and run the demo: a synthetic city
# of 100,000 residents ingested, scored and listed, then the API and the portal served on
# 127.0.0.1:8000. Extra arguments go to `socialcredit demo` (e.g. --residents 20000 --no-serve,
# --port 8080). The package is installed once (editable, so code changes need no reinstall) and
# again only when pyproject.toml changes; the command is then .venv/bin/socialcredit.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.socialcredit-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x .venv/bin/socialcredit ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
  echo "$want" > "$stamp"
fi
exec .venv/bin/socialcredit demo "$@"
