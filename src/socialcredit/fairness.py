"""Group fairness: how often each group is listed or refused, against the best-off group.

Why: a scheme can be applied to the letter and still fall far harder on one district, age band or
sex; the public report must show it (issue 18, point 5). Each attribute is taken on its own
(no intersections: groups would be too small to read). For an outcome that harms (being listed,
being refused a service), per group ``g`` with ``n`` members of whom ``k`` had it:

- the rate ``p = k / n`` with its Wilson 95 % interval (sound near 0, where listing rates are);
- the favourable rate ``q = 1 - p`` and the **disparate-impact ratio** ``q_g / q_best``, where the
  best-off group is the one with the lowest rate (the US "four-fifths rule" of the Uniform
  Guidelines on Employee Selection Procedures, 29 CFR 1607.4(D): a ratio below 0.8 is evidence of
  adverse impact), flagged below 0.8, with a 95 % interval by the log method (Katz 1978):
  ``exp(ln(r) ± 1.96 · sqrt((1 - q_g)/(n_g q_g) + (1 - q_b)/(n_b q_b)))``;
- since favourable rates near 1 hide large differences in rare harms, also the **relative risk**
  ``p_g / p_best`` with its interval by the same method on the harms, a half added to every count
  when one is zero (Haldane).

Groups with fewer than :data:`MIN_GROUP` members get their rate but no ratio or flag: too few to
judge. ``docs/fairness.md`` states the same with a worked example. Plain Python: the formulas are
short, and fairlearn (whose ``MetricFrame`` computes the rates) would bring scikit-learn and
pandas into the core for two divisions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

Z = 1.959963984540054  # the 97.5th percentile of the standard normal: 95 % two-sided
MIN_GROUP = 30
FOUR_FIFTHS = 0.8


@dataclass(frozen=True, slots=True)
class GroupRate:
    """One group's rate of a harmful outcome, and how it compares with the best-off group's."""

    group: str
    n: int
    events: int
    rate: float
    rate_low: float
    rate_high: float
    impact_ratio: float | None = None
    """The group's favourable rate over the best-off group's (None: too few to judge)."""
    impact_low: float | None = None
    impact_high: float | None = None
    four_fifths: bool = False
    """True when the impact ratio is below 0.8 (adverse impact by the four-fifths rule)."""
    relative_risk: float | None = None
    risk_low: float | None = None
    risk_high: float | None = None
    best: bool = False


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval of ``k`` events in ``n`` trials.

    >>> [round(x, 4) for x in wilson(0, 100)]
    [0.0, 0.037]
    """
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    den = 1 + z * z / n
    return max(0.0, (centre - half) / den), min(1.0, (centre + half) / den)


def ratio_interval(k1: int, n1: int, k2: int, n2: int, z: float = Z) -> tuple[float, float, float]:
    """The ratio of two proportions ``(k1/n1) / (k2/n2)`` with its log-method interval; a half
    is added to every count when an event count is zero.

    >>> [round(x, 3) for x in ratio_interval(20, 100, 10, 100)]
    [2.0, 0.987, 4.054]
    """
    if k1 == 0 or k2 == 0:
        k1f, n1f, k2f, n2f = k1 + 0.5, n1 + 0.5, k2 + 0.5, n2 + 0.5
    else:
        k1f, n1f, k2f, n2f = float(k1), float(n1), float(k2), float(n2)
    r = (k1f / n1f) / (k2f / n2f)
    se = math.sqrt(1 / k1f - 1 / n1f + 1 / k2f - 1 / n2f)
    return r, r * math.exp(-z * se), r * math.exp(z * se)


def group_rates(counts: Mapping[str, tuple[int, int]]) -> list[GroupRate]:
    """Each group's ``(members, members with the harm)`` as :class:`GroupRate` rows, compared
    with the best-off group among those large enough to judge."""
    judged = {g: (n, k) for g, (n, k) in counts.items() if n >= MIN_GROUP}
    best = min(judged, key=lambda g: (judged[g][1] / judged[g][0], g)) if judged else None
    out = []
    for g, (n, k) in sorted(counts.items()):
        low, high = wilson(k, n)
        row = GroupRate(g, n, k, k / n if n else 0.0, low, high)
        if best is not None and g in judged:
            nb, kb = judged[best]
            impact, ilow, ihigh = ratio_interval(n - k, n, nb - kb, nb)
            risk, rlow, rhigh = ratio_interval(k, n, kb, nb)
            row = GroupRate(
                g, n, k, row.rate, low, high,
                impact, ilow, ihigh, impact < FOUR_FIFTHS, risk, rlow, rhigh, g == best,
            )  # fmt: skip
        out.append(row)
    return out


def by_attribute(
    members: Iterable[tuple[Mapping[str, str], int, int]], attributes: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """Rates per group of each attribute on its own. ``members`` are ``(attributes, trials,
    events)``: a person's groups, and how many times the outcome could and did happen (1 and 0/1
    for "is listed"; decisions asked and refused for refusals)."""
    rows = list(members)
    out: dict[str, list[dict[str, Any]]] = {}
    for attribute in attributes:
        counts: dict[str, tuple[int, int]] = {}
        for groups, n, k in rows:
            g = groups.get(attribute) or "unknown"
            have_n, have_k = counts.get(g, (0, 0))
            counts[g] = (have_n + n, have_k + k)
        out[attribute] = [asdict(r) for r in group_rates({g: c for g, c in counts.items() if c[0]})]
    return out
