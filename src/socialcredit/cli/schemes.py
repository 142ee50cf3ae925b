"""``lint``: the safeguard rules on a scheme file, or on every scheme in force with its file;
``schemes``: the schemes in force with their versions (decision 0038)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from socialcredit import i18n, inforce
from socialcredit.api.reports import LintOut
from socialcredit.api.schememodels import SchemesOut
from socialcredit.cli.common import SAFEGUARDS_FAILED, JsonOpt, app, emit, fail, out, say
from socialcredit.i18n import N_
from socialcredit.rules import days
from socialcredit.schemes.lint import lint_file
from socialcredit.schemes.loader import SchemeError
from socialcredit.schemes.safeguards import SafeguardsFailed
from socialcredit.service.context import utcnow
from socialcredit.settings import get_settings

LEVELS = {"error": N_("error"), "warning": N_("warning")}
"""A finding's level as the line shows it (``--json`` keeps ``error``/``warning``)."""


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
        fail(escape(exc.describe()))
    errors = [f for _, f in findings if f.level == "error"]
    if as_json:
        emit(LintOut.of(findings))
    else:
        for src, f in findings:
            colour = "red" if f.level == "error" else "yellow"
            where = f"{src}: {f.where}" if file is None else f.where
            level = i18n.translate(LEVELS[f.level])
            message = i18n.translate(f.message)
            out.print(
                f"[{colour}]{escape(level)}[/] {escape(f'{where} [{f.rule}]: {message}')}", highlight=False
            )
        what = str(file) if file is not None else i18n.translate(N_("the schemes in force"))
        say(
            N_(
                "{what}: {errors} errors, {warnings} warnings",
                what=what,
                errors=len(errors),
                warnings=len(findings) - len(errors),
            )
        )
    raise typer.Exit(1 if errors else 0)


STATUS = {
    "in force": N_("in force"),
    "earlier": N_("earlier"),
    "later": N_("later"),
    "replaced": N_("replaced by a correction"),
}


@app.command("schemes")
def schemes(as_json: JsonOpt = False) -> None:
    """The schemes in force: each with its versions, the day each applies from and which is in
    force today (an answer for a day uses the version in force that day)."""
    try:
        registry = inforce.load_registry(get_settings())
    except SafeguardsFailed as exc:
        fail(f"{i18n.translate(SAFEGUARDS_FAILED)}\n{escape(exc.describe())}")
    except SchemeError as exc:
        fail(f"{i18n.translate(N_('a scheme in force is invalid:'))}\n{escape(exc.describe())}")
    answer = SchemesOut.of(registry, days.day_of(utcnow()))
    if as_json:
        emit(answer)
        return
    for s in answer.data:
        out.print(f"[bold]{escape(s.id)}[/] {escape(s.title)}", highlight=False)
        for v in s.versions:
            since = v.applies_from.isoformat() if v.applies_from else i18n.translate(N_("the beginning"))
            line = N_(
                "version {version}, from {since}: {status}",
                version=v.version,
                since=since if v.status != "replaced" else "-",
                status=i18n.translate(STATUS[v.status]),
            )
            out.print(f"  {escape(i18n.translate(line))}", highlight=False)
