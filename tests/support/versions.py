"""A small scheme in two versions for the tests of versions in force (decision 0038): a town whose
red-light item costs 10 points from 1 January 2020 (version 1) and 50 from 1 January 2025
(version 2), with a punishment on its lower grade; and the files an operator would write."""

from __future__ import annotations

from pathlib import Path

from socialcredit.schemes.loader import parse_scheme
from socialcredit.schemes.model import Scheme

TOWN = "town-pilot"
MEASURE = "town-no-subsidy"
ITEM = "town.red-light"

REVISION = """revision:
  replaces: "1"
  earlier_listings: re-evaluated
  reason: Version 1 mistyped the points the town's rules set for a red light.
"""


def town(version: str, effective_from: str | None, points: int, revision: str = "") -> str:
    """The town's scheme file: ``version`` from ``effective_from``, a red light costing ``points``."""
    effective = f"effective_from: {effective_from}\n" if effective_from else ""
    return f"""id: {TOWN}
title: Town pilot
jurisdiction: Town
version: "{version}"
{effective}{revision}legal_basis: Town Measures for Traffic Credit ({version})
items:
  - code: {ITEM}
    title: Running a red light
    category: traffic-safety
    area: administrative
    polarity: negative
    points: {points}
    legal_basis: Road Traffic Safety Law of the PRC, Art. 90
    sources: [traffic-police]
model:
  kind: points
  base: 1000
  grades:
    - {{grade: A, min_score: 960}}
    - {{grade: D, min_score: 0}}
measures:
  - id: {MEASURE}
    title: No town subsidy
    kind: punishment
    implemented_by: [town-office]
    trigger: {{scheme: {TOWN}, grades: [D]}}
    applies_to: [person]
    legal_basis: Town Measures for Traffic Credit, Art. 9
"""


RED_LIGHT = {
    "item": ITEM,
    "source": "traffic-police",
    "source_record_id": "rl-1",
    "occurred_on": "2024-06-01",
    "reported_at": "2024-06-01T02:00:00",
}
"""One red light in June 2024 (add the subject): 10 points under version 1, 50 under version 2."""

V1 = town("1", "2020-01-01", -10)
V2 = town("2", "2025-01-01", -50)
CORRECTION = town("2", "2025-01-01", -50, REVISION)


def parsed(*texts: str) -> list[Scheme]:
    return [parse_scheme(t, f"town v{n + 1}") for n, t in enumerate(texts)]


def write(home: Path, **files: str) -> None:
    """The operator's scheme files under ``home``/schemes, by file name."""
    folder = home / "schemes"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
