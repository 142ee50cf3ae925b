"""The command line's help pages as the i18n tests read them (tests/test_i18n_cli_help.py,
tests/test_i18n_cli_labels.py): every group and command, a terminal wide enough that nothing is
wrapped, and what a default may show untranslated."""

from __future__ import annotations

import re

import typer

from socialcredit.cli import app

CJK = re.compile(r"[\u4e00-\u9fff]")
WIDE = {"COLUMNS": "400", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
"""A terminal wide enough that no help text is wrapped (a sentence is found whole), and an
environment that asks for no language."""


def paths() -> list[tuple[str, ...]]:
    """Every group and command of the command line, as the words that name it, in the order
    ``--help`` lists them."""
    found: list[tuple[str, ...]] = []

    def visit(command: object, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            visit(sub, (*path, name))

    visit(typer.main.get_command(app), ())
    return found


PATHS = paths()


def a_value(default: str) -> bool:
    """A default a Chinese page may show as it is: Chinese, or one token with no space (a number,
    a path, a value the user types such as ``duckdb``, ``on``, a scheme's id)."""
    return bool(CJK.search(default)) or (default.strip() != "" and " " not in default.strip())
