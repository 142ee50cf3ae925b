"""``--help`` and Click's own words in the command's language (issue 18.2; decision 0084).

Why here and not in the commands: a command's help is its docstring and each option's ``help=``,
read by Typer when it builds the Click command tree, before ``--lang`` or ``LANG`` is known.
The English stays where it is, the source; what is rendered is worded late. Typer builds a fresh
tree for every run (``typer.main.get_command``), so :func:`word` sets each help text of that
tree to the catalogue's wording before anything is parsed, keeping the English beside it
(``_english_help``...) for a tree worded twice. The catalogue's key is the text as it reads
(:func:`fold`: each paragraph on one line); :mod:`socialcredit.catalogues` extracts the keys by
walking the same tree (:func:`help_texts`), so the two cannot drift.

Click's own words ("Usage:", "Options", "Show this message and exit.", a missing argument) are
not ours: Typer's vendored Click has no gettext at all, and its rich renderer called the
standard library's ``gettext`` once, at import, under the ``messages`` domain. Neither can be
bound to our catalogue per run. So the renderer's fixed words (module constants it reads at
each render) are set to ours for the run and put back after (:func:`speaking`), the usage
prefix comes from a formatter of ours (:class:`WordedFormatter`), and an error's message, built
by Click in English, is worded again from its templates (:data:`CLICK_ERRORS`, through
:func:`socialcredit.i18n.reword`). The labels Typer writes around our names, a value's type
(``<int range>``, ``<path>``) and the usage line's ``[OPTIONS]`` and ``COMMAND [ARGS]...``,
are worded too (:data:`TYPES`, :data:`USAGE_WORDS`; decision 0098). Command names, option
names, argument names and the values a user types stay as they are.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.text import Text as RichText
from typer import _click as click
from typer import rich_utils
from typer.core import TyperGroup
from typer.core import _TyperParameter as TyperParameter

from socialcredit import i18n
from socialcredit.i18n import N_

USAGE = N_("Usage: ")
WORDS = {
    "DEPRECATED_STRING": N_("(deprecated) "),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}
"""Typer's rich renderer's fixed words by the name of the constant it reads them from."""

CLICK_ERRORS = (
    N_("No such option: {name}"),
    N_("No such option: {name} (Possible options: {options})"),
    N_("No such command {name}."),
    N_("No such command {name}. Did you mean {suggestions}?"),  # Typer's suggestion added to it
    N_("Missing argument {name}."),
    N_("Missing option {name}."),
    N_("Missing parameter {name}."),
    N_("Missing argument {name}. Choose from:{choices}"),
    N_("Missing option {name}. Choose from:{choices}"),
    N_("Invalid value for {name}: {message}"),
    N_("Invalid value: {message}"),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {count} arguments."),
    N_("Option {name} does not take a value."),
    N_("{value} is not one of {choices}."),
    N_("Value {value} is not a valid {kind}."),
    # pydantic's, through which Typer converts a value: the ones an option of ours can give
    N_("Input should be greater than or equal to {limit}"),
    N_("Input should be less than or equal to {limit}"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid boolean, unable to interpret input"),
)
"""The messages Click and Typer (and pydantic under Typer) build in English for a usage error, as
templates our catalogue translates; :func:`socialcredit.i18n.reword` finds the template a message
was filled from."""

TYPES = {
    "str": N_("text"),
    "int": N_("integer"),
    "float": N_("number"),
    "bool": N_("switch"),
    "int range": N_("integer range"),
    "float range": N_("number range"),
    "path": N_("path"),
    "file": N_("file"),
    "dir": N_("directory"),
    "directory": N_("directory"),
    "datetime": N_("date and time"),
    "UUID": N_("UUID"),
}
"""The type labels Typer writes between angle brackets (``<int>``, ``<path>``), by Typer's own
label: what a value is, in the reader's language (decision 0098). A list is worded from its
item's label (:data:`LIST`); choices and date formats are values the user types and stay."""

LIST = N_("list of {}")
"""Typer's ``list[str]``, worded around its item's label."""

USAGE_WORDS = {
    "options_metavar": N_("[OPTIONS]"),
    "subcommand_metavar": N_("COMMAND [ARGS]..."),
}
"""The usage line's placeholders, by the attribute of the command holding them."""

HELP_ATTRS = ("help", "short_help", "epilog")


def fold(text: str) -> str:
    """A help text as the reader reads it and the catalogue holds it: Typer's own trimming
    (``inspect.cleandoc``, nothing after a form feed), each paragraph on one line."""
    text = inspect.cleandoc(text).partition("\f")[0]
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def _context(command: click.Command, parent: click.Context | None) -> click.Context:
    return click.Context(command, parent=parent, info_name=command.name)


def walk(
    command: click.Command, parent: click.Context | None = None
) -> Iterator[tuple[Any, str, click.Command]]:
    """Every object of the tree holding a help text, with the attribute holding it and the
    command it belongs to: each command's help, short help and epilog, each of its parameters'
    help (``--help`` itself included), then its subcommands'."""
    ctx = _context(command, parent)
    for attr in HELP_ATTRS:
        yield command, attr, command
    for param in command.get_params(ctx):
        yield param, "help", command
    if isinstance(command, TyperGroup):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from walk(sub, ctx)


def english(obj: Any, attr: str) -> str | None:
    """The English of a help text, as the code wrote it (kept aside once worded)."""
    kept = f"_english_{attr}"
    if not hasattr(obj, kept):
        setattr(obj, kept, getattr(obj, attr, None))
    value: str | None = getattr(obj, kept)
    return value


def word(root: click.Command, locale: str) -> None:
    """Word every help text of the tree under ``root`` in ``locale`` (English: folded as the
    catalogue holds it), and every default that is a word of ours (:func:`word_default`), and
    give each command the formatter that words "Usage:"."""
    cat = i18n.catalogue(locale)
    for obj, attr, command in walk(root):
        source = english(obj, attr)
        if source:
            setattr(obj, attr, cat.gettext(fold(source)))
        if isinstance(obj, click.Parameter):
            word_default(obj, cat)
        command.context_class = WordedContext
        for name in USAGE_WORDS:
            shown = english(command, name)
            if shown:  # a placeholder of Typer's, worded; one set by a command stays as set
                setattr(command, name, cat.gettext(shown))


def word_default(param: click.Parameter, cat: Any) -> None:
    """A parameter's default that is a word of ours, marked ``N_`` where it is written
    (``--purpose``'s "command line check"), in the reader's language: both what ``--help``
    shows in ``[default: …]`` and what the command then uses, so the page says what the
    command does. A default that is a number, a path or a value the user types (``duckdb``,
    ``on``, a scheme's id) is the machine's and stays as it is (decision 0095)."""
    source = english(param, "default")
    if isinstance(source, i18n.Text):
        param.default = cat.gettext(str(source))


def label(shown: str, param: Any, cat: Any) -> str:
    """Typer's type label of ``param`` (``<int range>``, ``<list[str]>``) in ``cat``'s language:
    each type name it holds worded by :data:`TYPES`; choices and date formats, values the user
    types, kept as they are."""
    desc = param.type_descriptor
    if desc.is_choice or (desc.is_datetime and desc.parameter_info.formats is not None):
        return shown
    bracketed = shown.startswith("<") and shown.endswith(">")

    def name(text: str) -> str:
        listed = re.fullmatch(r"list\[(.*)\]", text)
        if listed:
            return str(cat.gettext(LIST)).format(name(listed[1]))
        if "," in text:  # a tuple's labels
            return ",".join(name(part) for part in text.split(","))
        return str(cat.gettext(TYPES[text])) if text in TYPES else text

    return f"<{name(shown[1:-1])}>" if bracketed else name(shown)


def _labelled(original: Any, cat: Any) -> Any:
    """Typer's maker of a parameter's type label, worded by :func:`label`."""

    def display_type(self: Any, ctx: click.Context) -> str:
        return label(original(self, ctx), self, cat)

    return display_type


class WordedFormatter(click.HelpFormatter):
    """Click's help formatter with its usage prefix in the command's language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, i18n.gettext(USAGE) if prefix is None else prefix)


class WordedContext(click.Context):
    """Click's context, formatting with :class:`WordedFormatter` (set on every command of a
    worded tree, so every usage line, in help and in errors, is worded)."""

    formatter_class = WordedFormatter


def asked(args: Sequence[str]) -> str | None:
    """The ``--lang`` given before the command (``--lang zh-CN`` or ``--lang=zh-CN``), read from
    the arguments before Click parses them: ``--help`` is eager and renders before ``--lang``'s
    value is processed."""
    it = iter(args)
    for arg in it:
        if arg == "--lang":
            return next(it, None)
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if not arg.startswith("-"):
            return None
    return None


def _folded(original: Any) -> Any:
    """Typer's maker of a help text's rich text, its text folded at the column's edge: a Chinese
    sentence, one "word" to rich, was cut short with "…" instead of wrapped."""

    def make(**options: Any) -> Any:
        made = original(**options)
        if isinstance(made, RichText):
            made.overflow = "fold"
        return made

    return make


def _worded_error(original: Any) -> Any:
    """Typer's printer of a usage error, its message (Click's English) worded first."""

    def show(exc: click.ClickException) -> None:
        message = i18n.reword(exc.format_message())
        exc.format_message = lambda: message  # type: ignore[method-assign]
        original(exc)

    return show


@contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Typer's rich renderer in ``locale`` for the block: its fixed words, the type labels of
    parameters (Typer's one maker of them, ``display_type``, read by its rich and its plain
    help alike), an error's message worded again, and help texts folded rather than cut short
    with an ellipsis (rich breaks lines only at spaces, and a Chinese sentence has none); put
    back as they were after (the next run may be in the other language)."""
    cat = i18n.catalogue(locale)
    saved = {name: getattr(rich_utils, name) for name in WORDS}
    printer, maker = rich_utils.rich_format_error, rich_utils._make_rich_text
    typed = TyperParameter.display_type
    try:
        for name, text in WORDS.items():
            setattr(rich_utils, name, cat.gettext(str(text)))
        rich_utils.rich_format_error = _worded_error(printer)
        rich_utils._make_rich_text = _folded(maker)
        TyperParameter.display_type = _labelled(typed, cat)  # type: ignore[method-assign]
        yield
    finally:
        for name, value in saved.items():
            setattr(rich_utils, name, value)
        rich_utils.rich_format_error, rich_utils._make_rich_text = printer, maker
        TyperParameter.display_type = typed  # type: ignore[method-assign]


def help_texts() -> Iterator[tuple[str, str, int]]:
    """Every help text of the command line as the catalogue holds it, with the file and line of
    the command it belongs to (for ``python -m socialcredit.catalogues``)."""
    from socialcredit.cli import app

    src = Path(__file__).resolve().parents[1]
    for obj, attr, command in walk(typer.main.get_command(app)):
        text = english(obj, attr)
        if not text or not fold(text):
            continue
        func = _defined_by(command)
        if func is None:
            yield fold(text), "cli/__init__.py", 0
            continue
        path = Path(inspect.getsourcefile(func) or "").resolve()
        yield fold(text), path.relative_to(src).as_posix(), inspect.getsourcelines(func)[1]


def _defined_by(command: click.Command) -> Any:
    """The function a command runs (a group with none: its first command's), to name where its
    help is written."""
    if command.callback is not None:
        return inspect.unwrap(command.callback)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            return _defined_by(sub)
    return None
