"""The decision endpoint's reply body (``api/decisionmodels.DecisionReplies``): rendered by the
model once and stamped with what changes per question. Since decision 0088 a rendering is shared
by every subject whose decision is the same but for the subject and the times; each reply must
still be, byte for byte, the model's own rendering of that decision in that language."""

from __future__ import annotations

import dataclasses
import datetime as dt

from socialcredit import i18n
from socialcredit.api.decisionmodels import DecisionOut, DecisionReplies
from socialcredit.decisions import Decision, Reason, decide
from socialcredit.i18n import N_
from socialcredit.knowledge import Receipt
from socialcredit.schemes import shipped_registry
from socialcredit.scoring.result import Title
from tests.conftest import org, person

AT = dt.datetime(2026, 12, 7, 5, 0, 1)
SCHEMES = {"court-dishonest-debtors": "ab" * 32, "rongcheng": "cd" * 32}


def decisions() -> list[Decision]:
    """Allowed people (one reason, the same for all), people on a list (a reason by value alike,
    but for its dates), and people listed through an organisation (a reason naming it)."""
    measure = shipped_registry().measure("no-flights")
    assert measure is not None
    court = Title("list", "court-dishonest-debtors/dishonest", "List of Dishonest Judgment Debtors")
    out = []
    for n in range(1, 41):
        d = decide(subject=person(n), subject_kind="person", measure=measure, entries=[], scores={}, at=AT)
        if n % 4 == 1:
            since = dt.date(2025, 1, 1) + dt.timedelta(days=n)
            text = N_(
                "on the list '{list}' since {since}, with no fixed end: until a removal ground",
                list=court,
                since=since.isoformat(),
            )
            d = dataclasses.replace(d, allowed=False, reasons=(Reason("list", text, since=since),))
        elif n % 4 == 2:
            text = N_(
                "on the list '{list}' as legal representative of {via} since {since}, with no fixed end: "
                "until a removal ground",
                list=court,
                via=org(n),
                since="2026-06-01",
            )
            d = dataclasses.replace(d, allowed=False, reasons=(Reason("list", text, via=org(n)),))
        receipt = Receipt(f"dec-{n:016x}", AT, AT, 100 + (n > 20), 7, 0, SCHEMES)
        out.append(dataclasses.replace(d, at=AT + dt.timedelta(seconds=n), receipt=receipt))
    return out


def test_every_reply_is_the_models_own_rendering_and_renderings_are_shared() -> None:
    replies = DecisionReplies()
    asked = decisions()
    for locale in i18n.LOCALES:
        for d in asked:
            with i18n.using(locale):
                expected = DecisionOut.of(d).model_dump_json().encode()
            assert replies.body(d, locale) == expected, (locale, d.subject)
            assert replies.body(d, locale) == expected  # and again, from the memo
    for d in asked[:3]:  # the listed, the representative and the allowed: worded in each language
        assert replies.body(d, "zh_CN") != replies.body(d, "en")
    rendered = len(replies._memo)  # noqa: SLF001 - how many renderings were made
    # per language: the allowed share one per receipt position (2), each listed person has its
    # own dates and each representative its organisation (10 + 10)
    assert rendered == 2 * (2 + 10 + 10), rendered


def test_a_shared_reasons_tuple_is_worded_once_and_replies_stay_the_models() -> None:
    """Subjects whose states hold the same line share one reasons tuple (decision 0101): its
    wording is remembered by identity, and each reply is still the model's own rendering; an
    equal tuple that is another object is worded on its own, with the same reply."""
    replies = DecisionReplies()
    listed = decisions()[0]
    shared = listed.reasons
    alike = tuple(dataclasses.replace(r) for r in shared)
    assert alike == shared and alike is not shared
    for n, reasons in enumerate((shared, shared, shared, alike), start=50):
        d = dataclasses.replace(listed, subject=person(n), reasons=reasons)
        for locale in i18n.LOCALES:
            with i18n.using(locale):
                expected = DecisionOut.of(d).model_dump_json().encode()
            assert replies.body(d, locale) == expected, (locale, n)
    assert len(replies._wordings) == 2  # noqa: SLF001 - the shared tuple and the alike one
