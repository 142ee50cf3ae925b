"""Finding English left where a Chinese reader reads (issue 18.2): a portal page's text, a
command's lines, an API reply's human texts. Three English words in a row count as a sentence;
a name, a code, an id or a row of letter grades does not."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources

import yaml

from socialcredit.service import System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, org, person


class _Sentences(HTMLParser):
    """A page's text outside ``<code>``, ``<pre>``, ``<kbd>`` and scripts (codes, ids and
    examples are the machine's), with the labels a reader meets."""

    SKIP = ("code", "pre", "kbd", "samp", "script", "style")

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in self.SKIP
        self.parts += [v for k, v in attrs if k in ("aria-label", "title", "placeholder", "alt") and v]

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in self.SKIP

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


PROSE_KEYS = frozenset({"description", "legal_basis", "how_to_resolve", "jurisdiction", "reason", "who"})


def shipped_prose() -> set[str]:
    """The shipped schemes' own prose, whitespace folded: descriptions, legal bases, how to
    resolve, jurisdictions, a revision's reason, whom a measure also falls on (their titles are
    catalogued by id), in every version shipped."""
    out: set[str] = set()

    def walk(v: object, key: str) -> None:
        if isinstance(v, str) and key in PROSE_KEYS and v.strip():
            out.add(" ".join(v.split()))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, str(k))
        elif isinstance(v, list):
            for x in v:
                walk(x, key)

    folder = resources.files("socialcredit.schemes").joinpath("shipped")
    for entry in [*folder.iterdir(), *folder.joinpath("previous").iterdir()]:
        if entry.name.endswith(".yaml"):
            walk(yaml.safe_load(entry.read_text(encoding="utf-8")), "")
    return out


SENTENCE = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*(?:[ ,'’]+[A-Za-z]*[a-z][A-Za-z]*){2,}")


def english_in(texts: list[str]) -> list[str]:
    """Each text holding three or more English words in a row (a sentence, not a name, a code
    or a row of letter grades)."""
    texts = [re.sub(r"\s+", " ", part).strip() for part in texts]
    return [t for t in texts if SENTENCE.search(t)]


def english_left(html: str) -> list[str]:
    """:func:`english_in` the texts of a page (outside code, with the labels a reader meets)."""
    p = _Sentences()
    p.feed(html)
    return english_in(p.parts)


def english_lines(text: str) -> list[str]:
    """:func:`english_in` the lines a command printed."""
    return english_in(text.splitlines())


P, Q, ORG = person(81), person(82), org(81)


def rated_world(system: System, clock: Clock) -> System:
    """A person on the court's list who asked for an Honest Shanghai rating (a tier: bad), a
    person rated good, an organisation rated red by the enterprise rating, and an objection
    whose review is overdue: each kind of text a Chinese reader is shown about a subject."""
    system.register(
        [
            SubjectRow(P, "person", "Zhang Wei"),
            SubjectRow(Q, "person", "Li Na"),
            SubjectRow(ORG, "organisation", "Example Ltd"),
        ]
    )
    rows = [
        {"subject": P, "item": "court.dishonest.able-but-refuses", "source": "court",
         "source_record_id": "c-1", "occurred_on": "2026-06-01", "reported_at": "2026-06-01T10:00"},
        {"subject": P, "item": "honest-shanghai.applied", "source": "self", "source_record_id": "a-1",
         "occurred_on": "2026-05-01"},
        {"subject": Q, "item": "honest-shanghai.applied", "source": "self", "source_record_id": "a-2",
         "occurred_on": "2026-05-01"},
        {"subject": Q, "item": "traffic.minor", "source": "traffic-police", "source_record_id": "t-1",
         "occurred_on": "2026-06-01"},
        {"subject": ORG, "item": "court.dishonest.evades-enforcement", "source": "court",
         "source_record_id": "c-2", "occurred_on": "2026-06-01"},
    ]  # fmt: skip
    assert system.ingest(list(enumerate(rows, 1)), origin="test", principal=system.operator()).accepted == 5
    subject = system.authenticate(system.create_key("subject", Q).token)
    record = system.view(Q).records[-1].record_id
    system.file_objection(principal=subject, subject=Q, record_id=record, list_id=None, statement="not me")
    clock.advance(days=40)  # DOMAIN, Art. 12: reviewed within 15 days; now overdue
    return system
