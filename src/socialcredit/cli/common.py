"""What every command shares: the command group, its consoles, one-line failures, JSON output,
opening the installation (schemes in force, store, holiday calendar) and parsing the arguments
several commands take.

Bad input exits with status 2 and one clear line naming what is wrong; never a stack trace. A
refusal of the core (:mod:`socialcredit.errors`) that a command does not word itself is worded by
the group (:class:`Refusals`); any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from typer._click.globals import get_current_context
from typer.core import TyperGroup

from socialcredit import checkpoints, codes, i18n, inforce
from socialcredit.cli import dbwords, helpwords
from socialcredit.cli.oswords import problem
from socialcredit.decisions import LOUD
from socialcredit.errors import AccessDenied, NotPublic, Refused, SocialCreditError, Unavailable
from socialcredit.i18n import N_
from socialcredit.rules import days
from socialcredit.schemes import titles
from socialcredit.schemes.loader import Registry, SchemeError
from socialcredit.schemes.safeguards import SafeguardsFailed
from socialcredit.service import System
from socialcredit.settings import Settings, get_settings
from socialcredit.store import Store
from socialcredit.tlog import note

log = logging.getLogger(__name__)


class Refusals(TyperGroup):
    """The command group that turns a refusal no command worded into one line and exit status 2:
    every command answers the core's refusals the same way, and a bug (any other exception) is
    never dressed up as the user's mistake."""

    def main(self, args: Any = None, *rest: Any, **options: Any) -> Any:
        """Run a command line in its language from the start: ``--help`` (eager, rendered while
        the arguments are parsed) and Click's usage errors included (decision 0084)."""
        locale = language(helpwords.asked(sys.argv[1:] if args is None else list(args)))
        with i18n.using(locale), helpwords.speaking(locale):
            helpwords.word(self, locale)
            return super().main(args, *rest, **options)

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click context
        with i18n.using(language(ctx.params.get("lang"))):
            try:
                return super().invoke(ctx)
            except SocialCreditError as exc:
                fail(refusal(exc))
            except Exception as exc:  # a database's failure is the installation's (decision 0095)
                said = dbwords.worded(exc)
                if said is None:
                    raise  # a bug: its traceback
                fail(escape(said))


def language(asked: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The command line's language: ``--lang``, else the locale of the environment (``LC_ALL``,
    ``LC_MESSAGES``, ``LANG``, the first set, as gettext reads them), else English. Only a
    Chinese locale gives Chinese: ``C.UTF-8`` or ``fr_FR`` is English, the source."""
    if asked:
        return i18n.normalize(asked) or i18n.DEFAULT
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return i18n.normalize(env[name]) or i18n.DEFAULT
    return i18n.DEFAULT


def refusal(exc: SocialCreditError, names: Mapping[str, str] | None = None) -> str:
    """A refusal as one line, its field named as this command names it (``names``: the field to
    the argument or option, e.g. ``{"principal": "PRINCIPAL"}``)."""
    if isinstance(exc, NotPublic):  # closed to everyone: worded as the portal words it
        return exc.describe()
    if isinstance(exc, AccessDenied):
        return i18n.translate(N_("refused: may not {what}", what=exc.message))
    if isinstance(exc, codes.CodeError):
        return exc.describe_as((names or {}).get("subject", "CODE"))
    if exc.field is not None and names and exc.field in names:
        return f"{names[exc.field]}: {i18n.translate(exc.message)}"
    return exc.describe()


app = typer.Typer(
    cls=Refusals,
    help="socialcredit: an open, auditable social credit system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]


@app.callback()
def options(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of messages: en or zh-CN (default: LC_ALL, LC_MESSAGES or LANG; else en)",
        ),
    ] = None,
) -> None:
    """socialcredit: an open, auditable social credit system."""
    if lang is not None and i18n.normalize(lang) is None:
        fail(i18n.translate(N_("--lang: {lang!r} is not a language we have (en, zh-CN)", lang=lang)))


def fail(message: str, code: int = 2) -> NoReturn:
    label = escape(i18n.translate(N_("error:")))
    err.print(f"[bold red]{label}[/] {message}", highlight=False)
    raise typer.Exit(code)


def reason(exc: BaseException) -> str:
    """Why ``exc`` was raised, as the reader reads it: a refusal described (its field named), a
    message of ours (``N_``, a proof that does not verify) worded, any other (the system's own:
    a file not found) by :func:`~socialcredit.cli.oswords.problem`."""
    if isinstance(exc, SocialCreditError):
        return exc.describe()
    if isinstance(exc, OSError | json.JSONDecodeError | UnicodeDecodeError):
        return problem(exc)  # the system's reason: worded by its errno, or framed
    return i18n.translate(exc.args[0]) if len(exc.args) == 1 else str(exc)


def say(text: str) -> None:
    """Print a line of ours (a :class:`~socialcredit.i18n.Text`, ``N_(...)``) in the command's
    language; rich markup in the template (``[bold]``) is kept."""
    out.print(i18n.translate(text), highlight=False)


def answer_word(answer: str) -> str:
    """``ALLOW`` or ``DENY`` as the reader reads it (the exit status and ``--json`` keep the
    machine's ``allow``/``deny``)."""
    return i18n.translate(LOUD.get(answer, answer))


def prose(text: str) -> str:
    """A scheme's own prose (a legal basis, how to resolve) in the reader's language."""
    return titles.prose(text)


def registry_title(system: System, kind: str, key: str) -> str:
    """A measure's (or a list's, an item's) title in the reader's language, its id when the
    schemes in force do not know it."""
    if kind == "measure":
        found = system.registry.measure(key)
        return titles.title_of(kind, key, found.title) if found is not None else key
    return titles.title_of(kind, key, key)


def emit(answer: BaseModel) -> None:
    """Print a ``--json`` answer: always a model, the API's own where the API gives the same
    answer (:mod:`socialcredit.api.models`), else one declared beside them
    (:mod:`socialcredit.api.reports`), so the shapes are declared once and cannot drift."""
    sys.stdout.write(answer.model_dump_json(indent=2) + "\n")


def load_registry(settings: Settings) -> Registry:
    """The shipped schemes plus any ``*.yaml`` in ``$SOCIALCREDIT_HOME/schemes``, refused
    (``SafeguardsFailed``) if any fails the safeguards (:mod:`socialcredit.inforce`)."""
    return inforce.load_registry(settings)


SAFEGUARDS_FAILED = N_(
    "a scheme in force fails the safeguards, so nothing that serves, scores, decides or ingests "
    "starts until it is fixed or removed (`socialcredit lint` lists every finding):"
)


def shown_url(url: str) -> str:
    """A database URL as a line may show it: its password hidden (a line is pasted into tickets)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def cannot_open(url: str, exc: BaseException) -> NoReturn:
    """Fail with the database that cannot be opened (its password hidden) and why: a driver's
    error worded with its likely cause and what to do (:mod:`~socialcredit.cli.dbwords`)."""
    said = dbwords.worded(exc) or f"{exc.__class__.__name__}: {exc}"
    fail(
        escape(
            i18n.translate(N_("cannot open the database {url}: {problem}", url=shown_url(url), problem=said))
        )
    )


def open_system(url: str | None = None) -> System:
    settings = get_settings()
    try:
        registry = load_registry(settings)
    except SafeguardsFailed as exc:
        fail(f"{i18n.translate(SAFEGUARDS_FAILED)}\n{escape(exc.describe())}")
    except SchemeError as exc:
        invalid = i18n.translate(N_("a scheme in force is invalid:"))
        fail(f"{invalid}\n{escape(exc.describe())}")
    try:
        store = Store(url or settings.url())
    except Unavailable as exc:  # the master key (errors.Unavailable): not the database's fault
        fail(refusal(exc))
    except Exception as exc:  # a database that cannot be opened is the user's to fix
        cannot_open(url or settings.url(), exc)
    try:
        holidays = settings.calendar().holidays
    except (OSError, UnicodeError, Refused) as exc:
        fail(f"holidays: {escape(reason(exc))}")
    try:
        log_signer = checkpoints.signer(settings.home, settings.log_origin)
    except (OSError, Refused) as exc:
        fail(f"{settings.home / checkpoints.KEY_FILE}: {escape(reason(exc))}")
    # Typer (0.29) runs on a copy of Click of its own, so its context is found through that copy:
    # the installed ``click.get_current_context`` never sees it and returned None here
    ctx = get_current_context(silent=True)
    if ctx is not None:
        # the pool's connections end with the command, not whenever the store is collected: a
        # command run in process (tests, scripts calling the app) kept them open, and a run of
        # commands against one PostgreSQL server ran out of its connections
        ctx.call_on_close(store.close)
    try:
        checkpoints.load_witnesses(settings.home)  # a malformed file is refused now, not per request
    except (OSError, UnicodeError, Refused) as exc:
        fail(f"{settings.home / checkpoints.WITNESSES}: {escape(reason(exc))}")

    def witnesses() -> list[note.Witness]:
        try:
            return checkpoints.load_witnesses(settings.home)
        except (OSError, UnicodeError, Refused):  # edited into a bad state meanwhile: none known
            log.exception("cannot read %s: no witness is known", settings.home / checkpoints.WITNESSES)
            return []

    return System(
        store,
        registry,
        holidays=holidays,
        signer=log_signer,
        witnesses=witnesses,
        vocabulary=inforce.vocabulary(settings),
    )


def progress() -> Progress:
    """Progress bars on standard error (standard output is the answer, ``--json`` or not)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """One progress bar for one task."""
    with progress() as p:
        p.add_task(description, total=total)
        yield p


def parse_at(value: str | None, option: str = "--at") -> dt.datetime | None:
    """An ``--at`` / ``--known-at`` value as naive UTC; a bare date means the end of that day in
    China Standard Time (``rules.days.moment``)."""
    if value is None:
        return None
    try:
        return days.moment(value)
    except ValueError:
        fail(
            i18n.translate(
                N_(
                    "{option}: {value!r} is not an ISO date or timestamp like 2025-06-30",
                    option=option,
                    value=value,
                )
            )
        )


def valid_code(value: str) -> codes.Code:
    try:
        return codes.validate(value)
    except codes.CodeError as exc:
        fail(escape(exc.describe_as("CODE")))
