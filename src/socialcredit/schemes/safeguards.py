"""Safeguards at load: a scheme with a lint error is never in force.

Why at load and not only in ``socialcredit lint``: any YAML in ``$SOCIALCREDIT_HOME/schemes/`` went
into force without being linted. That included a scheme with petitioning items and a Sesame copy
with the friends' factor at weight 25. A safeguard a command can skip is advice; so every scheme
in force, shipped or the operator's, is linted when it is loaded, and the commands that serve,
score, decide or ingest refuse to start while one has an error, naming the file, the item and the
rule (:func:`enforce`). Only the simulator may run such a scheme, on an explicit flag, and its
report says so (``socialcredit simulate --research-only``).

Across the schemes in force one more thing is checked: an item code is one kind of fact wherever
it is catalogued (``loader.Registry``), so it has one category; a fact filed as ``tax`` in one file
and as something else in another means one of them is wrong about what it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from socialcredit.i18n import N_, translate
from socialcredit.schemes.categories import Vocabulary
from socialcredit.schemes.lint import Finding, errors, lint
from socialcredit.schemes.loader import SchemeError
from socialcredit.schemes.model import Scheme

RESEARCH_ONLY = N_("research only: this scheme fails the safeguards")
"""The stamp on a simulation report of a scheme set that fails the safeguards."""


@dataclass(frozen=True)
class Breach:
    """A lint error of a scheme in force, with the file it was loaded from."""

    source: str
    scheme: str
    finding: Finding

    def __str__(self) -> str:
        return self.worded(None)

    def worded(self, locale: str | None) -> str:
        """The line in ``locale`` (the current language by default; English as ``str``): the
        finding's message translated, the file, the place and the rule's name as they are."""
        f = self.finding
        message = f.message if locale == "en" else translate(f.message, locale)
        return f"{self.source}: {f.where}: {message} [{f.rule}]"


class SafeguardsFailed(SchemeError):
    """A scheme in force fails the safeguards; the message names each file, item and rule."""

    def __init__(self, breaches: list[Breach]) -> None:
        self.breaches = breaches
        super().__init__("\n".join(b.worded("en") for b in breaches))

    def describe(self) -> str:
        """Every breach in the reader's language (:meth:`Breach.worded`)."""
        return "\n".join(b.worded(None) for b in self.breaches)


def breaches(schemes: Iterable[tuple[str, Scheme]], vocabulary: Vocabulary) -> list[Breach]:
    """Every lint error of these schemes (each with the file it came from), then every item code
    filed under different categories in different files."""
    pairs = list(schemes)
    out = [Breach(source, s.id, f) for source, s in pairs for f in errors(lint(s, vocabulary))]
    first: dict[str, tuple[str, str | None]] = {}
    for source, s in pairs:
        for item in s.items:
            seen = first.setdefault(item.code, (source, item.category))
            if seen[1] != item.category:
                out.append(
                    Breach(
                        source,
                        s.id,
                        Finding(
                            "error",
                            f"items.{item.code}",
                            "category-differs",
                            N_(
                                "filed under {category!r} here and under {other!r} in {file}: "
                                "one kind of fact has one category",
                                category=item.category,
                                other=seen[1],
                                file=seen[0],
                            ),
                        ),
                    )
                )
    return out


def enforce(schemes: Iterable[tuple[str, Scheme]], vocabulary: Vocabulary) -> None:
    """Refuse (:class:`SafeguardsFailed`) a set of schemes to be put in force if any fails."""
    found = breaches(schemes, vocabulary)
    if found:
        raise SafeguardsFailed(found)
