"""``lint``: the safeguard rules on a scheme file, or on every scheme in force with its file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from socialcredit import inforce
from socialcredit.api.reports import LintOut
from socialcredit.cli.common import JsonOpt, app, emit, fail, out
from socialcredit.schemes.lint import lint_file
from socialcredit.schemes.loader import SchemeError
from socialcredit.settings import get_settings


@app.command()
def lint(
    file: Annotated[
        Path | None, typer.Argument(help="A scheme YAML file (default: every scheme in force)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a scheme: valid, every item with a legal basis and a category that may be scored,
    nothing about political expression, religion, petitioning, association, private life or
    contacts, no measure on a third party without its own basis. The same rules refuse a scheme in
    force at load. Exit 1 on errors."""
    settings = get_settings()
    try:
        if file is not None:
            findings = [(str(file), f) for f in lint_file(file, inforce.vocabulary(settings))]
        else:
            findings = inforce.findings(inforce.load(settings))
    except SchemeError as exc:
        fail(str(exc))
    errors = [f for _, f in findings if f.level == "error"]
    if as_json:
        emit(LintOut.of(findings))
    else:
        for src, f in findings:
            colour = "red" if f.level == "error" else "yellow"
            where = f"{src}: {f.where}" if file is None else f.where
            out.print(f"[{colour}]{f.level}[/] {escape(f'{where} [{f.rule}]: {f.message}')}", highlight=False)
        what = str(file) if file is not None else "the schemes in force"
        out.print(f"{what}: {len(errors)} errors, {len(findings) - len(errors)} warnings", highlight=False)
    raise typer.Exit(1 if errors else 0)
