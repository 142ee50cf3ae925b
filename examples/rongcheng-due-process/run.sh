#!/usr/bin/env bash
# Rongcheng with and without due process, on the same 50,000 persons and seed, five years.
# Regenerates report.html, report.json and the charts in this directory.
set -euo pipefail
cd "$(dirname "$0")"
SOCIALCREDIT_HOME="$(mktemp -d)" ../../.venv/bin/socialcredit simulate \
  --scheme rongcheng --vs due-process=off --error-rate 0.02 \
  --population 50000 --years 5 --seed 2014 --out .
