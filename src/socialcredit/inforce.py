"""The schemes in force in this installation: the shipped ones plus ``$SOCIALCREDIT_HOME/schemes``,
linted with the shipped categories plus the operator's, before anything may use them.

Why one place: the command line (every command that opens the system), the simulator and the API
app all put the same schemes in force, and each must refuse the same failing scheme with the same
message naming the file, the item and the rule (``schemes.safeguards``). This module is the
adapter that reads the files and the settings; the judging is the core's.
"""

from __future__ import annotations

from dataclasses import dataclass

from socialcredit.i18n import N_
from socialcredit.schemes.categories import Vocabulary, extend, shipped_vocabulary
from socialcredit.schemes.lint import Finding, lint
from socialcredit.schemes.loader import (
    PREVIOUS,
    Registry,
    SchemeError,
    load_scheme,
    shipped_names,
    shipped_origin,
    shipped_previous,
    shipped_scheme,
)
from socialcredit.schemes.safeguards import Breach, SafeguardsFailed, breaches
from socialcredit.settings import Settings, get_settings


@dataclass(frozen=True)
class InForce:
    """The schemes loaded and cross-checked, the vocabulary they were judged by, and every lint
    error among them (none, for a set that may be put in force)."""

    registry: Registry
    vocabulary: Vocabulary
    breaches: list[Breach]


def vocabulary(settings: Settings) -> Vocabulary:
    """The shipped categories plus the operator's ``$SOCIALCREDIT_HOME/categories.yaml``, if any
    (a file that redefines a shipped category raises ``CategoryError``, a ``SchemeError``)."""
    own = settings.operator_categories()
    if own is None:
        return shipped_vocabulary()
    text, source = own
    return extend(shipped_vocabulary(), text, source)


def load(settings: Settings) -> InForce:
    """Every scheme meant to be in force, with its lint errors, without refusing any: for the
    simulator's research runs and ``socialcredit lint`` with no file. A malformed file or a bad
    reference still raises ``SchemeError``."""
    vocab = vocabulary(settings)
    pairs = [(shipped_origin(n), shipped_scheme(n)) for n in shipped_names()]
    extra = settings.home / "schemes"
    previous = shipped_previous()
    if extra.is_dir():
        pairs.extend((str(p), load_scheme(p)) for p in sorted(extra.glob("*.yaml")))
        previous += [load_scheme(p) for p in sorted((extra / PREVIOUS).glob("*.yaml"))]
    # every file named by its version too: one scheme id may have several (decision 0038)
    names: dict[str, str] = {}
    for source, s in pairs:
        key = f"{s.id}@{s.version}"
        if key in names:
            raise SchemeError(
                N_(
                    "scheme {id!r} version {version} is loaded twice: {first}, {second}",
                    id=s.id,
                    version=s.version,
                    first=names[key],
                    second=source,
                )
            )
        names[key] = source
    registry = Registry.of((s for _, s in pairs), names, previous)
    return InForce(registry, vocab, breaches(pairs, vocab))


def findings(found: InForce) -> list[tuple[str, Finding]]:
    """Every finding of the schemes in force, warnings too, each with its file: what
    ``socialcredit lint`` shows with no file, so an operator sees why a command refused to start."""
    registry = found.registry
    out = [
        (registry.origin(f"{s.id}@{s.version}"), f) for s in registry.kept for f in lint(s, found.vocabulary)
    ]
    return out + [(b.source, b.finding) for b in found.breaches if b.finding.rule == "category-differs"]


def load_registry(settings: Settings) -> Registry:
    """The schemes in force, refused (:class:`SafeguardsFailed`) if any fails the safeguards."""
    found = load(settings)
    if found.breaches:
        raise SafeguardsFailed(found.breaches)
    return found.registry


def refuse_failing(registry: Registry, settings: Settings | None = None) -> None:
    """Refuse a registry built elsewhere (the API app's) if any of its schemes fails the
    safeguards, judged with this installation's vocabulary."""
    vocab = vocabulary(settings or get_settings())
    pairs = [(registry.origin(f"{s.id}@{s.version}"), s) for s in registry.kept]
    found = breaches(pairs, vocab)
    if found:
        raise SafeguardsFailed(found)
