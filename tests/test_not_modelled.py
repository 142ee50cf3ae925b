"""Every reported scheme as reported, or refused on the record (issue 19, points 3 and 4): each
measure and reward the public reporting names is in a shipped scheme or in docs/not-modelled.md
with its reason; each shipped scheme's header says what it models, assumes and leaves out."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.schemes import shipped_registry

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "not-modelled.md"
SHIPPED = ROOT / "src" / "socialcredit" / "schemes" / "shipped"

LEFT_OUT = [
    # DOMAIN.md, "Joint rewards and punishments": reported, with no legal basis found or refused
    "Slower internet", "Pets taken away", "Higher rent", "Higher utility costs",
    "Exclusion from restaurants", "Exclusion from holiday areas", "Bans on online shopping",
    "Exclusion from jobs in journalism", "Exclusion from jobs in law",
    "Priority school enrolment", "Tax breaks", "Airport VIP lane", "Paying hospital bills later",
    "A more prominent dating profile",
    # Sesame's reported inference from purchases
    "Buying nappies",
]  # fmt: skip

MODELLED = {
    # reported measure: a shipped measure's id
    "no flights": "no-flights",
    "no high-speed rail": "no-high-speed-rail",
    "no travel abroad": "no-travel-abroad",
    "children barred from high-fee private schools": "no-high-fee-private-schools",
    "deposit-free bookings": "deposit-free-rental",
    "green lanes": "green-lane-services",
    "visa fast-track": "sesame-schengen-visa",
}


@pytest.mark.parametrize("measure", LEFT_OUT)
def test_a_reported_measure_left_out_is_listed_with_its_reason(measure: str) -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith(f"| {measure}")]
    assert len(rows) == 1, measure
    reason = rows[0].rstrip(" |").rsplit("|", 1)[1]
    assert any(r in reason for r in ("no legal basis found", "a safeguard refuses it", "not yet")), rows[0]


def test_modelled_measures_have_a_legal_basis() -> None:
    measures = {m.id: m for s in shipped_registry().schemes.values() for m in s.measures}
    for reported, mid in MODELLED.items():
        found = [m for i, m in measures.items() if i.startswith(mid)]
        assert found and all(m.legal_basis for m in found), reported


def test_the_readme_links_the_list() -> None:
    assert "(docs/not-modelled.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_shipped_header_says_what_it_models_assumes_and_leaves_out(path: Path) -> None:
    header = path.read_text(encoding="utf-8").split("\nid: ", 1)[0]
    for word in ("Sources:", "MODELS", "ASSUMPTION", "LEAVES OUT"):
        assert word in header, (path.name, word)


def test_stories_of_integrity_are_published_only_with_consent() -> None:
    """DOMAIN.md: "Red lists name the trustworthy, with 'stories of integrity' published"; issue
    19: "Red-list publication ... is modelled only with the subject's consent, recorded as a
    record" (tests/test_consent.py shows it at work)."""
    honour = shipped_registry().list_def("rongcheng/honour-roll")
    assert honour.kind == "red" and honour.publication_consent is not None
    text = DOC.read_text(encoding="utf-8")
    assert "stories of\nintegrity" in text or "stories of integrity" in text
    assert "rongcheng.publicity-consent" in text and "decision 0042" in text
