"""The records a city's subjects and private platforms report themselves, apart from its agencies'.

Why a module of its own: applications to an opt-in scheme (source ``self``: Honest Shanghai's)
and a platform's purchase records (source ``online-platforms``: Sesame's) are drawn in streams of
their own, after the agencies' records (``synth.records``), so adding an opt-in scheme or a
platform's item leaves every agency record of the city as it was.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from socialcredit.schemes.loader import Registry
from socialcredit.synth.city import NOT_AGENCIES, City

__all__ = ["APPLY_SHARE", "NOT_AGENCIES", "expected_extra", "own_records"]


APPLY_SHARE = 0.6
"""The share of the subjects an opt-in scheme rates who apply to it themselves (source ``self``)."""


def _applications(
    city: City, registry: Registry, seed: int, dates: list[str], times: list[str], scale: float
) -> Iterator[dict[str, object]]:
    """Applications to each opt-in scheme whose enrolment item the subject reports itself (source
    ``self``; Honest Shanghai): :data:`APPLY_SHARE` of the subjects its model rates, each on a
    uniform day of the window. Drawn from a stream of their own, after the agencies' records, so
    that adding an opt-in scheme leaves every other record of the city as it was."""
    n = 0
    for k, scheme in enumerate(sorted(registry.schemes.values(), key=lambda s: s.id)):
        rule = scheme.enrolment
        if rule is None or scheme.model is None or "self" not in scheme.item_index[rule.item].sources:
            continue
        rated = set(scheme.model.subjects) & set(scheme.item_index[rule.item].subjects)
        rng = np.random.default_rng([seed, 2, k])
        apply = rng.random(len(city.subjects)) < APPLY_SHARE * scale
        day = rng.integers(0, len(dates), len(city.subjects))
        second = rng.integers(0, 12 * 3600, len(city.subjects))
        for i, subject in enumerate(city.subjects):
            if not apply[i] or subject.kind not in rated:
                continue
            n += 1
            yield {
                "subject": subject.code,
                "item": rule.item,
                "source": "self",
                "source_record_id": f"self-{n:09d}",
                "occurred_on": dates[day[i]],
                "reported_at": f"{dates[day[i]]}T{times[second[i]]}",
                "evidence": f"application in the app {scheme.id}-{n:07d}",
                "action": "report",
                "corrects": None,
                "details": {},
            }


def _platform_records(
    city: City, registry: Registry, seed: int, dates: list[str], times: list[str], scale: float
) -> Iterator[dict[str, object]]:
    """A private platform's records (source ``online-platforms``: Sesame's purchase records):
    Poisson at the item's base rate over the window for every subject of a kind it applies to,
    on uniform days, reported the same day."""
    from socialcredit.synth.records import _definitions  # records imports this module

    defs, kinds = _definitions(registry)
    years = len(dates) / 365.25
    n = 0
    for k, code in enumerate(sorted(defs)):
        it = defs[code]
        if "online-platforms" not in registry.sources_by_item.get(code, frozenset()):
            continue
        rng = np.random.default_rng([seed, 3, k])
        counts = rng.poisson(it.base_rate_per_year * years * scale, len(city.subjects))
        for i, subject in enumerate(city.subjects):
            if subject.kind not in kinds.get(code, set()):
                continue
            for _ in range(int(counts[i])):
                n += 1
                day = int(rng.integers(0, len(dates)))
                yield {
                    "subject": subject.code,
                    "item": code,
                    "source": "online-platforms",
                    "source_record_id": f"online-platforms-{n:09d}",
                    "occurred_on": dates[day],
                    "reported_at": f"{dates[day]}T{times[int(rng.integers(0, 12 * 3600))]}",
                    "evidence": f"purchase record OP-{n:07d}",
                    "action": "report",
                    "corrects": None,
                    "details": {},
                }


def expected_extra(city: City, registry: Registry) -> float:
    """The expected number of :func:`own_records` rows at scale 1."""
    total = 0.0
    for scheme in registry.schemes.values():
        rule = scheme.enrolment
        if rule is None or scheme.model is None or "self" not in scheme.item_index[rule.item].sources:
            continue
        rated = set(scheme.model.subjects) & set(scheme.item_index[rule.item].subjects)
        total += APPLY_SHARE * sum(1 for s in city.subjects if s.kind in rated)
    from socialcredit.synth.records import _definitions  # records imports this module

    defs, kinds = _definitions(registry)
    years = ((city.end - city.start).days + 1) / 365.25
    for code, it in defs.items():
        if "online-platforms" in registry.sources_by_item.get(code, frozenset()):
            n = sum(1 for s in city.subjects if s.kind in kinds.get(code, set()))
            total += it.base_rate_per_year * years * n
    return total


def own_records(
    city: City, registry: Registry, seed: int, dates: list[str], times: list[str], scale: float
) -> Iterator[dict[str, object]]:
    """Every application and platform record of the city, after the agencies' records."""
    yield from _applications(city, registry, seed, dates, times, scale)
    yield from _platform_records(city, registry, seed, dates, times, scale)
