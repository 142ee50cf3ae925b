"""The newcomer's first run (issue 18, "First run, as a newcomer"): ``scripts/demo.sh`` installs
the package once and runs the installed command without installing it again, and the README
documents the demo's options, ``--port`` among them (a busy port's hint names it)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_second_run_of_demo_sh_does_not_install_again(tmp_path: Path) -> None:
    """A checkout whose ``.venv`` holds the installed command and the stamp of this
    ``pyproject.toml``: ``demo.sh`` runs the command at once (here its ``--help``), with no new
    virtual environment and no pip (``.venv/bin/python`` is never made)."""
    command = Path(sys.executable).parent / "socialcredit"
    assert command.exists(), f"the installed command {command} (pip install -e .)"
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "demo.sh", tmp_path / "scripts" / "demo.sh")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "socialcredit").symlink_to(command)
    stamp = hashlib.sha256((tmp_path / "pyproject.toml").read_bytes()).hexdigest()
    (tmp_path / ".venv" / ".socialcredit-installed").write_text(stamp + "\n")
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "", "COLUMNS": "200"}
    ran = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "demo.sh"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Usage: socialcredit demo" in ran.stdout and "--residents" in ran.stdout, ran.stdout
    assert not (bin_dir / "python").exists()  # no venv made, nothing installed
    assert sorted(p.name for p in bin_dir.iterdir()) == ["socialcredit"]


def test_the_readme_documents_every_option_of_the_demo() -> None:
    """Each of ``demo``'s options, as ``--help`` lists them, is in the README (the issue found
    ``--port`` named by no document)."""
    from typer.testing import CliRunner

    from socialcredit.cli import app

    page = CliRunner().invoke(app, ["--lang", "en", "demo", "--help"], env={"COLUMNS": "200"}).stdout
    options = set(re.findall(r"--[a-z][a-z-]+", page)) - {"--help", "--lang"}
    assert {"--residents", "--port", "--fresh", "--no-serve"} <= options, page
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [o for o in sorted(options) if o not in readme] == []
