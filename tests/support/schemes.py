"""Hand-made schemes for the linter's tests: an item (a red light, unless told), a small scored
scheme of such items, the findings as (level, where, rule), and an operator's own category."""

from __future__ import annotations

from typing import Any

from socialcredit.schemes import Finding, Scheme


def item(code: str = "traffic.red-light", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": code,
        "title": "Running a red light",
        "category": "traffic-safety",
        "area": "administrative",
        "polarity": "negative",
        "points": -10,
        "legal_basis": "Road Traffic Safety Law of the PRC, Art. 90",
        "sources": ["traffic-police"],
    }
    base.update(over)
    return base


def scheme(*items: dict[str, Any], scored: bool = True, **over: Any) -> Scheme:
    data: dict[str, Any] = {
        "id": "town",
        "title": "Town pilot",
        "jurisdiction": "Town",
        "items": list(items) or [item()],
    }
    if scored:
        data["model"] = {"grades": [{"grade": "A", "min_score": 900}, {"grade": "D", "min_score": 0}]}
    data.update(over)
    return Scheme.model_validate(data)


def rules(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.level, f.where, f.rule) for f in findings]


HERITAGE = """
categories:
  - id: heritage-protection
    title: {en: Heritage protection, zh: 文物保护}
    scorable: yes
    description: Penalties for damaging protected cultural relics.
    examples: [Damaging a protected cultural relic]
"""
"""An operator's categories.yaml adding a scorable category (heritage protection)."""
