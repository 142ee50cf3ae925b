"""The labels Click and Typer write around our names in ``--help`` (issue 18.2; decision 0098):
a value's type (``<int range>``, ``<path>``, Click's ``INTEGER``, ``TEXT``) and the usage line's
``[OPTIONS]`` and ``COMMAND [ARGS]...``, in Chinese under ``--lang zh-CN`` on every page, and
in English under ``--lang en``.

The words looked for are not listed by hand: they are read from Click's own parameter types
(the ``click`` package, installed with uvicorn) and from the labels Typer itself writes for
every kind of parameter it knows, so a label a Typer upgrade adds or renames is looked for
too."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Annotated, Any

import click
import pytest
import typer
from typer import _click as vendored

from socialcredit.cli import app
from tests.support.cli import runner
from tests.support.helppages import CJK, PATHS, WIDE, a_value


def _click_type_names() -> set[str]:
    """The name of each parameter type of Click (``text``, ``integer range``, ``choice``...):
    every subclass of ``ParamType`` naming itself, and the names the path and file types
    give themselves."""
    names: set[str] = set()
    todo = list(click.ParamType.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if isinstance(cls.__dict__.get("name"), str):
            names.add(cls.__dict__["name"])
    made = (click.Path(file_okay=False), click.Path(dir_okay=False), click.Path(), click.File())
    return names | {str(t.name) for t in made}


def _typer_labels() -> set[str]:
    """Every label Typer writes for a parameter of each kind it supports, and its usage line's
    placeholders, as Typer writes them (outside any run of ours, so in its own English)."""
    probe = typer.Typer()

    @probe.command()
    def kinds(  # noqa: PLR0913 - one parameter of each kind
        a: Annotated[str, typer.Option()] = "",
        b: Annotated[int, typer.Option()] = 0,
        c: Annotated[float, typer.Option()] = 0.0,
        d: Annotated[bool, typer.Option()] = False,
        e: Annotated[int, typer.Option(min=0, max=9)] = 0,
        f: Annotated[float, typer.Option(min=0, max=1)] = 0.0,
        g: Annotated[Path, typer.Option()] = Path(),
        h: Annotated[Path, typer.Option(dir_okay=False)] = Path(),
        i: Annotated[Path, typer.Option(file_okay=False)] = Path(),
        j: Annotated[dt.datetime | None, typer.Option()] = None,
        k: Annotated[uuid.UUID | None, typer.Option()] = None,
        m: Annotated[list[str] | None, typer.Option()] = None,
    ) -> None:
        """A command with every kind of option."""

    @probe.command()
    def other() -> None:
        """A second command, so the probe is a group."""

    group = typer.main.get_command(probe)
    ctx = vendored.Context(group)
    command = group.get_command(ctx, "kinds")  # type: ignore[attr-defined]
    labels = {p.display_type(vendored.Context(command)) for p in command.params}
    return labels | {command.options_metavar, group.subcommand_metavar}  # type: ignore[attr-defined]


def vocabulary() -> set[str]:
    """Every word of Click's and Typer's labels, in lower case (two letters or more)."""
    words = set()
    for label in _click_type_names() | _typer_labels():
        words |= {w.lower() for w in re.findall(r"[A-Za-z]{2,}", label)}
    return words


VOCABULARY = vocabulary()
TREE = typer.main.get_command(app)
"""The command line's tree, built once, to read its names and Typer's own labels from (each
run the tests make builds its own)."""


def command_at(path: tuple[str, ...]) -> Any:
    """The group or command at ``path`` of :data:`TREE`."""
    command: Any = TREE
    for name in path:
        command = command.commands[name]
    return command


def _names(path: tuple[str, ...]) -> set[str]:
    """The arguments' names of the command at ``path``: ours, like the options' (decision 0084),
    and the names errors and refusals give them."""
    return {p.name for p in command_at(path).params if p.param_type_name == "argument"}


def labels_left(page: str, path: tuple[str, ...]) -> list[str]:
    """Each word of Click's and Typer's vocabulary left on a help page, after the machine's
    names are set aside: the command's path on the usage line, the first cell of each row of
    a panel (an option's, an argument's or a subcommand's name), options written in the text,
    code quoted in it (````GET /public/lists/{scheme}/{list}````), the command's arguments'
    names and a default that is a value the user types."""
    kept: list[str] = []
    for line in page.splitlines():
        line = line.replace(" ".join(("root", *path)), " ", 1) if "root" in line else line
        line = re.sub(r"^\s*│\s*(\*\s+)?\S+", " ", line)
        line = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", line)
        line = re.sub(r"``[^`]*``|`[^`]*`", " ", line)
        line = re.sub(r"\[默认：([^\]]*)\]", lambda m: " " if a_value(m[1]) else m[0], line)
        for name in _names(path):
            line = re.sub(rf"[{{\[]{re.escape(name)}[}}\]](\.\.\.)?", " ", line)
        kept.append(line)
    text = "\n".join(kept)
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w.lower() in VOCABULARY]


def test_the_vocabulary_is_clicks_and_typers_own() -> None:
    """Read from the libraries, it holds the words the issue names (``INTEGER``, ``TEXT``,
    ``FLOAT``, ``<int range>``, ``<path>``) and the usage line's: the scan cannot pass for
    looking for nothing."""
    assert {"integer", "text", "float", "int", "str", "range", "path", "file", "directory"} <= VOCABULARY
    assert {"options", "command", "args", "bool", "boolean", "datetime", "uuid", "list"} <= VOCABULARY
    assert labels_left("Usage: root demo [OPTIONS]\n│ --residents <int range>  City size │", ("demo",)) == [
        "OPTIONS",
        "int",
        "range",
    ]


@pytest.mark.slow  # every page, both languages: CI; the loop keeps each kind of label below
@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "socialcredit")
def test_no_label_of_click_or_typer_is_left_in_chinese_help(path: tuple[str, ...]) -> None:
    """Every group's and command's ``--help`` in Chinese: no word of Click's or Typer's labels
    left, the usage line's placeholders and each option's type worded."""
    page = runner.invoke(app, ["--lang", "zh-CN", *path, "--help"], env=WIDE).stdout
    assert labels_left(page, path) == [], page
    assert "[选项]" in page and "<开关>" in page, page  # --help, a switch, is on every page
    if hasattr(command_at(path), "commands"):
        assert "[选项] 命令 [参数]..." in page, page


@pytest.mark.slow  # every page, both languages: CI; the loop keeps each kind of label below
@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "socialcredit")
def test_english_help_keeps_its_labels_in_english(path: tuple[str, ...]) -> None:
    """The same pages in English: the labels are there, in English (the scan finds them, so it
    would find them in a Chinese page), and no Chinese."""
    page = runner.invoke(app, ["--lang", "en", *path, "--help"], env=WIDE).stdout
    assert "[OPTIONS]" in labels_left(page, path) or "OPTIONS" in labels_left(page, path), page
    assert "<switch>" in page and CJK.search(page) is None, page


def test_each_kind_of_label_is_worded() -> None:
    """The labels the command line uses, one of each kind, in both languages: a whole number, a
    number, a range of either, a path, a text, a list, a switch."""
    cases = {
        ("demo",): [
            ("<整数范围> [100<=x<=10000000]", "<integer range> [100<=x<=10000000]"),
            ("<整数>", "<integer>"),
        ],
        ("simulate",): [
            ("<数值范围> [0<=x<=1]", "<number range> [0<=x<=1]"),
            ("<路径>", "<path>"),
            ("<文本>", "<text>"),
        ],
    }
    for path, pairs in cases.items():
        zh = runner.invoke(app, ["--lang", "zh-CN", *path, "--help"], env=WIDE).stdout
        en = runner.invoke(app, ["--lang", "en", *path, "--help"], env=WIDE).stdout
        for chinese, english in pairs:
            assert chinese in zh and english in en, (path, chinese, english)
    listed = [p for p in PATHS if "<list[str]>" in _typer_page(p)]
    assert listed, "no command has a list option any more: choose another label to check"
    for path in listed:
        zh = runner.invoke(app, ["--lang", "zh-CN", *path, "--help"], env=WIDE).stdout
        assert "<文本列表>" in zh, zh


def _typer_page(path: tuple[str, ...]) -> str:
    """Typer's own labels of a command's parameters, as it writes them with nothing of ours."""
    command = command_at(path)
    return " ".join(p.display_type(vendored.Context(command)) for p in command.params)
