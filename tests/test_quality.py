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
    "chaincheck.py",
    "intake.py",
    "history.py",
    "fairness.py",
    "knowledge.py",
    "documents.py",
    "i18n.py",
    "lists.py",
    "decisions.py",
    "validity.py",
    "access.py",
    "subjects.py",
    "schemes",
    "scoring",
    "dueprocess",
    "rules",
    "tlog",
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


LINTED = ("src", "tests", "scripts", "bench")
"""Every tree of Python the project ships or runs: the benches and the release-fixture script too,
which no test imports, so nothing else would notice them drift."""


def test_ruff_clean() -> None:
    result = subprocess.run([_bin("ruff"), "check", *LINTED], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_formatted() -> None:
    result = subprocess.run(
        [_bin("ruff"), "format", "--check", *LINTED], cwd=ROOT, capture_output=True, text=True
    )
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


def _test_modules_imported(source: str, package: str = "tests") -> list[str]:
    """The test modules (``tests/test_*.py``) that ``source``, a module of ``package``, imports,
    however it spells the import (absolute, relative, ``from tests import test_x``, in a function)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{module}" if module else base
            names = [module, *(f"{module}.{a.name}" for a in node.names)]
        found += [n for n in names if n.split(".")[0] == "tests" and n.split(".")[-1].startswith("test_")]
    return found


def test_no_test_module_imports_another() -> None:
    """Fixtures live once, in tests/conftest.py, and shared helpers in tests/support/ (or
    tests/served.py): a test module that imports another runs that module's imports and
    module-level set-up, ties the two together, and hides where a shared helper lives (issue 15)."""
    files = sorted((ROOT / "tests").rglob("*.py"))
    assert len(files) >= 50
    offending = {}
    for path in files:
        package = ".".join(path.parent.relative_to(ROOT).parts)
        if names := _test_modules_imported(path.read_text(encoding="utf-8"), package):
            offending[str(path.relative_to(ROOT))] = names
    assert not offending, f"test modules imported by other modules: {offending}"


def test_the_import_check_sees_every_spelling() -> None:
    """The check above finds each way of importing a test module, and passes support modules."""
    cases = {
        "from tests.test_cli import run": True,
        "from tests import test_cli": True,
        "import tests.test_cli": True,
        "from .test_cli import run": True,
        "from . import test_cli": True,
        "def f():\n    from tests.test_web import client_for": True,
        "from tests.support.cli import run": False,
        "from tests.conftest import person": False,
        "from tests.served import start_server": False,
        "from tests import conftest": False,
    }
    for source, imports in cases.items():
        assert bool(_test_modules_imported(source)) is imports, source
    assert _test_modules_imported("from ..test_cli import run", "tests.support") == ["tests.test_cli"]


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
