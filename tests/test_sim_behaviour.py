"""The simulated population's behaviour follows the version in force (issue 16: "a rule change
applies from that date"; decision 0072). A town's red-light item occurs 2 times a person-year
under version 1 and 12 times under version 2 (in force from 1 June 2025, month 5): the months under
each version draw records at its own rate; with version 2 at version 1's rate, they do not change."""

from __future__ import annotations

import numpy as np

from socialcredit.sim.engine import Simulation
from socialcredit.sim.population import synthesize
from socialcredit.sim.scenario import Settings
from tests.support.versions import TOWN, parsed, town

MONTHS, CHANGE, PERSONS = 12, 5, 1500


def at_rate(text: str, rate: float) -> str:
    """``text`` with its item occurring ``rate`` times a subject-year."""
    return text.replace(
        "    sources: [traffic-police]\n", f"    sources: [traffic-police]\n    base_rate_per_year: {rate}\n"
    )


def monthly_records(second_rate: float) -> list[int]:
    """Records drawn each month (of persons and organisations, errors included), version 1 at
    2 a year, version 2 at ``second_rate``."""
    schemes = parsed(
        at_rate(town("1", "2020-01-01", -10), 2), at_rate(town("2", "2025-06-01", -50), second_rate)
    )
    settings = Settings(scheme=TOWN, error_rate=0.0)
    sim = Simulation(schemes, settings, synthesize(PERSONS, seed=4), seed=4, months=MONTHS)
    out = []
    for t in range(MONTHS):
        before = int(sim.source_records.sum())
        sim.step(t)
        out.append(int(sim.source_records.sum()) - before)
    return out


def test_each_months_records_are_drawn_at_the_rate_of_the_version_in_force() -> None:
    changed, same = monthly_records(12), monthly_records(2)
    subjects = PERSONS + synthesize(PERSONS, seed=4).n_orgs
    for counts, rates in ((changed, (2, 12)), (same, (2, 2))):
        first, second = np.mean(counts[:CHANGE]), np.mean(counts[CHANGE:])
        for got, rate in ((first, rates[0]), (second, rates[1])):
            expected = subjects * rate / 12  # a month is about a twelfth of a year
            assert abs(got - expected) < 0.15 * expected, (counts, rates)
    assert changed[:CHANGE] == same[:CHANGE]  # the months before the change are drawn alike
