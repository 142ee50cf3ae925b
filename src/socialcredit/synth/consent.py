"""The consent to publicity a city's listed subjects report themselves (decision 0042).

Why after the listing, not with the other records: a city asks a subject for consent to be named
in public when the subject is put on a list that publishes only with consent (Rongcheng's honour
roll), so who is asked depends on the list's entries, which follow from every other record. The
demo therefore streams these records after the city's records are in (``demo.stream_consents``):
of the subjects a list has entered, :data:`CONSENT_SHARE` consent within :data:`ANSWER_DAYS` of
their first entry taking effect, the others never answer, and :data:`WITHDRAW_SHARE` of those who
consent withdraw later in the window. Each draw comes from a stream of its own, seeded by ``seed``
and the list, over the entries in a fixed order, so the same city gives the same records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from socialcredit.schemes.loader import Registry

__all__ = ["ANSWER_DAYS", "CONSENT_SHARE", "WITHDRAW_SHARE", "consent_records"]

CONSENT_SHARE = 0.8
"""The share of the subjects entered on a list who consent to being named on it."""
WITHDRAW_SHARE = 0.1
"""The share of those who consent who withdraw their consent later."""
ANSWER_DAYS = 30
"""A consent comes within this many days of the entry taking effect (uniform)."""


def _at(day: dt.date, second: int) -> str:
    """A report in Chinese office hours (08:00 to 20:00 there), stored as UTC."""
    return f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"


def consent_records(
    registry: Registry,
    entered: Mapping[str, Sequence[tuple[str, dt.date]]],
    end: dt.date,
    seed: int,
) -> Iterator[dict[str, object]]:
    """Ingest rows (source ``self``) of consent to, and withdrawal of consent from, publication on
    each list of ``registry`` that asks for it. ``entered`` maps a list's qualified id to the
    subjects it entered, each with the day its first entry took effect; ``end`` is the last day
    of the city's window: nothing is reported after it."""
    n = 0
    lists = sorted(((f"{s.id}/{lst.id}", lst) for s, lst in registry.lists()), key=lambda x: x[0])
    for k, (qualified, lst) in enumerate(lists):
        rule = lst.publication_consent
        if rule is None:
            continue
        first: dict[str, dt.date] = {}
        for code, since in entered.get(qualified, ()):
            first[code] = min(since, first.get(code, since))
        subjects = sorted(first)
        rng = np.random.default_rng([seed, 4, k])
        consents = rng.random(len(subjects)) < CONSENT_SHARE
        after = rng.integers(0, ANSWER_DAYS + 1, len(subjects))
        withdraws = rng.random(len(subjects)) < WITHDRAW_SHARE
        later = rng.random(len(subjects))
        seconds = rng.integers(0, 12 * 3600, (len(subjects), 2))
        for i, code in enumerate(subjects):
            day = first[code] + dt.timedelta(days=int(after[i]))
            if not consents[i] or day > end:
                continue  # never answered (within the window)
            rows = [(rule.item, day, int(seconds[i, 0]), "consent given in the app")]
            if withdraws[i] and day < end:
                gone = day + dt.timedelta(days=1 + int(later[i] * (end - day).days))
                rows.append((rule.withdrawal_item, gone, int(seconds[i, 1]), "consent withdrawn in the app"))
            for item, when, second, how in rows:
                n += 1
                yield {
                    "subject": code,
                    "item": item,
                    "source": "self",
                    "source_record_id": f"self-consent-{n:09d}",
                    "occurred_on": when.isoformat(),
                    "reported_at": _at(when, second),
                    "evidence": f"{how}: {qualified} ({n:07d})",
                    "action": "report",
                    "corrects": None,
                    "details": {},
                }
