"""A public list's published values in the reader's language (issue 18.2): the court list's
``conduct`` (the items' titles), ``performance`` and ``obligation`` on a Chinese page, in
``GET /public/lists/...`` with ``Accept-Language: zh-CN`` and in ``public list --lang zh-CN``.

Why worded when read, from the English kept: the public snapshot keeps what it always kept (the
conduct as the grounds' English item titles joined by "; ", the court's performance and obligation
as its record gave them), so a snapshot written by an earlier release is served in either language
as it is, with no rebuild and no new snapshot format; the engines, which compute the same rows,
are left alone. An English title is found again among the schemes' items, as ``i18n.reword`` finds
a stored English message among the catalogue's templates (decisions 0059 and 0097).

A court's own words (an obligation stated otherwise than "pay N yuan", a court's name) are its
record's, not ours: shown as the court wrote them, in either language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from socialcredit import i18n
from socialcredit.i18n import N_
from socialcredit.schemes import titles
from socialcredit.schemes.loader import Registry

FIELD_NAMES = {
    "name": N_("Name"),
    "sex": N_("Sex"),
    "age": N_("Age"),
    "id_number_masked": N_("ID number (masked)"),
    "code": N_("Code"),
    "legal_representative": N_("Legal representative"),
    "obligation": N_("Obligation"),
    "performance": N_("Performance"),
    "conduct": N_("Dishonest conduct"),
    "case_number": N_("Case number"),
    "court": N_("Court"),
    "grade": N_("Grade"),
    "district": N_("District"),
}
"""A published field's name, as a list page's columns and ``public list``'s table head word it
(the portal's template by ``|tr``); the API and ``--json`` keep the field's id."""

PERFORMANCE = {"none": N_("not performed at all")}
"""What a court writes for a debtor's performance (the list's 履行情况), by its stored word."""

OBLIGATIONS = (
    (re.compile(r"pay ([0-9][0-9,.]*) yuan"), N_("pay {amount} yuan")),
    (re.compile(r"repay ([0-9][0-9,.]*) yuan"), N_("repay {amount} yuan")),
)
"""An obligation in the form the shipped courts state a sum (the synthetic city's, ``synth``)."""

SEPARATOR = {"zh_CN": "；"}
"""How the conduct's titles are joined in each language (English: "; ", as stored)."""


def item_titles(registry: Registry, locale: str) -> dict[str, str]:
    """Each item's English title and its title in ``locale``; a title two items share with two
    different translations is left out (kept in English rather than guessed)."""
    found: dict[str, set[str]] = {}
    for code, item in registry.item_defs.items():
        found.setdefault(item.title, set()).add(titles.title_of("item", code, item.title, locale=locale))
    return {english: next(iter(ts)) for english, ts in found.items() if len(ts) == 1}


def conduct(stored: str, words: Mapping[str, str], locale: str) -> str:
    """The conduct as stored (item titles joined by "; "), each title worded where it is an
    item's (the whole first: a title may itself hold "; ")."""
    if stored in words:
        return words[stored]
    parts = stored.split("; ")
    return SEPARATOR.get(locale, "; ").join(words.get(p, p) for p in parts)


def performance(stored: str, words: Mapping[str, str], locale: str) -> str:
    """A performance as the court stated it: a word of the list's, or an item's title (a
    fulfilment's), worded; anything else as written."""
    if stored in PERFORMANCE:
        return i18n.translate(PERFORMANCE[stored], locale)
    return words.get(stored, stored)


def obligation(stored: str, locale: str) -> str:
    """An obligation stated as a sum to pay, worded; any other as the court wrote it."""
    for pattern, template in OBLIGATIONS:
        m = pattern.fullmatch(stored.strip())
        if m is not None:
            return i18n.translate(i18n.fill(template, amount=m.group(1)), locale)
    return stored


def detail(key: str, value: object, locale: str | None = None) -> tuple[str, str]:
    """A record's detail (a key and value of its ``details``) as a subject's page shows it: a
    field the lists publish by its name, the court's obligation and performance worded as the
    list words them; any other as the source stated it."""
    loc = locale or i18n.current()
    name = i18n.translate(FIELD_NAMES[key], loc) if key in FIELD_NAMES else key
    if loc == i18n.DEFAULT or not isinstance(value, str):
        return name, str(value)
    if key == "obligation":
        return name, obligation(value, loc)
    if key == "performance":
        return name, performance(value, {}, loc)
    return name, value


def worded_rows(
    rows: list[tuple[Any, dict[str, Any]]], registry: Registry, locale: str | None = None
) -> list[tuple[Any, dict[str, Any]]]:
    """``rows`` (a list's published rows with their subjects' kinds) with their conduct,
    performance and obligation in ``locale`` (the reader's by default); the rows themselves when
    the reader reads English, the language they are kept in."""
    loc = locale or i18n.current()
    if loc == i18n.DEFAULT or not rows:
        return rows
    words = item_titles(registry, loc)
    out = []
    for kind, row in rows:
        new = dict(row)
        if isinstance(new.get("conduct"), str):
            new["conduct"] = conduct(new["conduct"], words, loc)
        if isinstance(new.get("performance"), str):
            new["performance"] = performance(new["performance"], words, loc)
        if isinstance(new.get("obligation"), str):
            new["obligation"] = obligation(new["obligation"], loc)
        out.append((kind, new))
    return out
