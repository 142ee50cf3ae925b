"""What the browser tests share: a real ``socialcredit serve`` over a prepared home, and Debian's
Chromium driven by Playwright (its own browser download is never used)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.served import home_env, start_server

ROOT = Path(__file__).resolve().parents[2]
# Every run saves its screenshots in tests/screenshots/ (not tracked); with
# SOCIALCREDIT_UPDATE_SCREENSHOTS=1 it refreshes the committed ones in docs/screenshots/ instead.
UPDATE_DOCS = os.environ.get("SOCIALCREDIT_UPDATE_SCREENSHOTS") == "1"
SHOTS = ROOT / ("docs" if UPDATE_DOCS else "tests") / "screenshots"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]


@contextmanager
def serving(home: Path) -> Iterator[str]:
    """``socialcredit serve`` on ``home`` (its base address), stopped at the end."""
    env = home_env(home)
    base, proc = start_server(env)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def chromium(env: dict[str, str] | None = None) -> Iterator[Browser]:
    """The system's headless Chromium (with ``env`` as its environment, if given); a missing one
    fails the test, saying how to install it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/test.sh (it installs Debian's chromium) "
            "or apt-get install chromium"
        )
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, env=env)
        try:
            yield b
        finally:
            b.close()
