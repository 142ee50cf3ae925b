"""The code keeps its own promises: ruff and mypy clean, the core imports no adapter, every
command is documented in the README."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "socialcredit"
CORE = [
    "errors.py",
    "codes.py",
    "ledger.py",
    "intake.py",
    "lists.py",
    "decisions.py",
    "access.py",
    "subjects.py",
    "schemes",
    "scoring",
    "dueprocess",
    "rules",
]
ADAPTERS = {
    "store",
    "engines",
    "api",
    "web",
    "cli",
    "sim",
    "service",
    "demo",
    "synth",
    "formats",
    "settings",
    "backup",
    "checkpoints",
    "inforce",
}


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_ruff_clean() -> None:
    result = subprocess.run([_bin("ruff"), "check", "src", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean() -> None:
    result = subprocess.run([_bin("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_imports_no_adapter() -> None:
    files = [p for c in CORE for p in ((SRC / c).rglob("*.py") if (SRC / c).is_dir() else [SRC / c])]
    assert len(files) >= 10
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "socialcredit" and len(parts) > 1:
                    assert parts[1] not in ADAPTERS, f"{path.relative_to(ROOT)} imports adapter {name}"
                assert parts[0] not in {"sqlalchemy", "fastapi", "typer", "rich", "uvicorn", "duckdb"}, (
                    f"{path.relative_to(ROOT)} imports {name}"
                )


def test_every_command_is_documented() -> None:
    from socialcredit.cli import app

    readme = (ROOT / "README.md").read_text()
    commands = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert {"demo", "serve", "ingest", "score", "check", "verify", "lint"} <= set(commands)
    for name in [*commands, "keys create", "keys list", "keys revoke"]:
        assert f"socialcredit {name}" in readme, f"`socialcredit {name}` is not in the README"


def test_the_server_runs_on_httptools_and_uvloop() -> None:
    """``socialcredit serve`` leaves uvicorn's loop and HTTP settings on ``auto``, which pick the C
    parser and event loop when they are installed: a third more decisions a second than ``h11``
    and asyncio's own loop (docs/decisions/0018-http-stack.md). If a dependency change dropped
    them, this fails instead of the server silently slowing down."""
    from fastapi import FastAPI
    from uvicorn.config import Config

    config = Config(app=FastAPI())  # the defaults socialcredit.cli.demo.run_server keeps
    config.load()
    assert config.http_protocol_class.__module__ == "uvicorn.protocols.http.httptools_impl"
    factory = config.get_loop_factory()
    assert factory is not None and factory.__module__.split(".")[0] == "uvloop"
