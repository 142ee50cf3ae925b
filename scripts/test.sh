#!/usr/bin/env bash
# Set up (a virtual environment with everything the tests need) and run the whole test suite:
# unit, property, API, CLI and demo tests, each storage test on SQLite and on a real PostgreSQL
# started from the pgserver wheel, plus ruff and mypy, and the portal's end-to-end test in Debian's
# Chromium (installed here when missing; Playwright's own browser download is never used).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the end-to-end test" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "error: /usr/bin/chromium is missing; the end-to-end test needs Debian's chromium." >&2
    echo "       install it as root: apt-get update && apt-get install -y --no-install-recommends chromium" >&2
    exit 1
  fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
