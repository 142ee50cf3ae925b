#!/usr/bin/env bash
# Set up (a virtual environment with everything the tests need) and run the whole test suite:
# unit, property, API, CLI and demo tests, each storage test on SQLite and on a real PostgreSQL
# started from the pgserver wheel, plus ruff and mypy, and the portal's end-to-end test in Debian's
# Chromium with a Chinese font and the decision bench under wrk (all installed here when missing;
# Playwright's own browser download is never used).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages the suite drives for real: chromium (the portal's end-to-end tests), a font with
# Chinese glyphs for it (without one every Chinese character is drawn as the same empty box, and
# the phone-width tests measure boxes: tests/test_e2e_fonts.py) and wrk (the decision bench's load
# generator, issue 20). Each is looked for, so a second run installs nothing.
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$missing fonts-wqy-microhei"
command -v wrk >/dev/null || missing="$missing wrk"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's$missing for the tests" >&2
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "error: Debian's$missing missing; the end-to-end tests (and their Chinese font) and the decision bench need them." >&2
    echo "       install as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
  fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
