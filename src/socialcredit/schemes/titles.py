"""Chinese titles of the shipped schemes' items, lists, measures, factors, tiers and tier rules
(issue 18.2).

Why a catalogue beside each scheme and not a key in it: a scheme's file is what its hash and its
golden results are computed from, and the same titles in a second language change nothing a
scheme decides; kept apart (``shipped/zh-CN/<scheme id>.yaml``), they are added or mended without
a new version of the scheme, and without touching the lines of whoever edits its rules. A test
(tests/test_i18n.py) fails on any item, list, measure or factor of a shipped scheme without one.

A page or a command in Chinese shows a thing's Chinese title where there is one, and its own
(English) title otherwise: a scheme an operator adds keeps the titles its file gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, overload

import yaml

from socialcredit import i18n
from socialcredit.i18n import N_

KINDS = ("scheme", "item", "list", "measure", "factor", "tier", "rule")
"""What a catalogue titles; a tier model's ``rules`` are keyed by the tier each gives (a shipped
scheme has one rule per tier; the test of the catalogues fails on one that has more)."""
LOCALE = "zh_CN"
PROSE = "prose.yaml"  # beside the catalogues: every scheme's prose, by its English


@cache
def catalogue(scheme_id: str) -> dict[str, dict[str, str]]:
    """The Chinese titles of one shipped scheme by kind (``{"item": {code: title}, ...}``);
    empty for a scheme with none."""
    path = resources.files("socialcredit.schemes").joinpath("shipped", "zh-CN", f"{scheme_id}.yaml")
    if not path.is_file():
        return {}
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, dict[str, str]] = {k: {} for k in KINDS}
    out["scheme"][scheme_id] = str(data.get("title", ""))
    for kind in KINDS[1:]:
        out[kind] = {str(k): str(v) for k, v in (data.get(f"{kind}s") or {}).items()}
    return out


@cache
def _everything() -> dict[str, dict[str, str]]:
    """Every shipped scheme's titles merged by kind, for a page that names an item or a
    measure without its scheme (the same code has the same title in every scheme)."""
    folder = resources.files("socialcredit.schemes").joinpath("shipped", "zh-CN")
    merged: dict[str, dict[str, str]] = {k: {} for k in KINDS}
    if not folder.is_dir():
        return merged
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml") and entry.name != PROSE:
            for kind, titles in catalogue(entry.name.removesuffix(".yaml")).items():
                for key, title in titles.items():
                    merged[kind].setdefault(key, title)
    return merged


def title_of(
    kind: str, key: str, english: str, scheme_id: str | None = None, locale: str | None = None
) -> str:
    """The title of ``key`` (an item's code, a list's, measure's or factor's id, a scheme's id, a
    tier's name or, for a tier rule, the tier it gives)
    in the reader's language: the Chinese one when the language is Chinese and there is one,
    else ``english`` (the scheme's own)."""
    if (locale or i18n.current()) != LOCALE:
        return english
    found = (catalogue(scheme_id) if scheme_id else _everything()).get(kind, {}).get(key)
    return found or english


@cache
def _prose() -> dict[str, str]:
    """The shipped schemes' own prose in Chinese, by its English (``shipped/zh-CN/prose.yaml``)."""
    path = resources.files("socialcredit.schemes").joinpath("shipped", "zh-CN", PROSE)
    if not path.is_file():
        return {}
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {" ".join(str(k).split()): str(v) for k, v in data.items()}


@overload
def prose(english: str, locale: str | None = None) -> str: ...
@overload
def prose(english: None, locale: str | None = None) -> None: ...


def prose(english: str | None, locale: str | None = None) -> str | None:
    """A scheme's own prose (a description, a legal basis, how to resolve) in the reader's
    language: keyed by its English, whitespace folded, since the same sentence (a statute, say)
    recurs across schemes and versions and is translated once; a scheme an operator adds, or a
    sentence not catalogued, keeps its own words."""
    if (locale or i18n.current()) != LOCALE or not english:
        return english
    known = _prose()
    text = " ".join(english.split())
    if text in known:
        return known[text]
    # a reason's basis joins the list's and the measure's ("...; ..."): each run of parts found
    # whole, the longest first (a basis may itself hold "; ")
    parts, out, i = text.split("; "), [], 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            found = known.get("; ".join(parts[i:j]))
            if found is not None:
                out.append(found)
                i = j
                break
        else:
            out.append(parts[i])
            i += 1
    return "；".join(out) if out != parts else english


class Prose(str):
    """A scheme's own sentence quoted in a message of ours (whom a measure falls on, in a lint
    finding; a revision's reason on an entry): ``str`` its English, worded by :func:`prose` for the reader
    (:class:`socialcredit.i18n.Worded`)."""

    def worded(self, locale: str) -> str:
        return prose(str(self), locale)


class Reason(str):
    """A revision's reason as the operator gave it (``Revision.reason``: English text, or a mapping
    by ``en`` and ``zh-CN``), in the reader's language: their own where given (English found in the
    shipped prose counts as given in Chinese); else the one given, marked with its language, never
    shown as if it were the reader's (issue 16, decision 0072). ``str`` is the English reader's."""

    given: dict[str, str]

    def __new__(cls, reason: str | Mapping[Any, str]) -> Reason:
        given = {"en": reason} if isinstance(reason, str) else dict(reason)
        self = super().__new__(cls, _reason_in(given, "en"))
        self.given = given
        return self

    def worded(self, locale: str) -> str:
        return _reason_in(self.given, locale)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Reason, (self.given,))


def _reason_in(given: Mapping[str, str], locale: str) -> str:
    english, chinese = given.get("en"), given.get("zh-CN")
    if locale == LOCALE:
        if chinese:
            return chinese
        if english:
            worded = prose(english, LOCALE)
            if worded != english:
                return worded
            return i18n.translate(N_("(in English) {text}", text=" ".join(english.split())), locale)
    if english:
        return english
    return i18n.translate(N_("(in Chinese) {text}", text=chinese or ""), locale)
