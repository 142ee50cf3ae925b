"""What is in force in a simulated world, and the settings of a run.

Why a scenario registry: the live system scores everyone under every scored scheme in force; a
simulation asks "what if *this* scheme were in force?". So a scenario is the chosen scored scheme
plus every scheme without a scoring model (the court's list, the joint-punishment memorandum),
with the measures whose triggers name another scored scheme left out (a measure of the memorandum
triggered by Rongcheng's grades has no meaning when Suining's scheme is simulated). The schemes are
the same objects the live system loads; switching due process off is a copy of the scheme with
its lists' notice removed, compiled by the same code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from socialcredit.i18n import N_, Lines
from socialcredit.schemes.loader import Registry, SchemeError
from socialcredit.schemes.model import Notice, Scheme


@dataclass(frozen=True)
class Settings:
    """One arm of a simulation. Defaults are the documented baseline (see docs/simulation.md)."""

    scheme: str = "rongcheng"
    due_process: bool = True
    """Notice before listing, objections by the wrongly recorded, restoration."""
    feedback: bool = True
    """Punishments raise the hazard of losing work; unemployment raises default rates; rewards
    lower them. Off: constant rates."""
    heterogeneity: bool = True
    """Propensities vary between people (gamma, mean 1); off: everyone has the same rates."""
    error_rate: float = 0.01
    """Per source: share of records about the wrong person, and as many again that did not happen."""
    relationships: float = 0.0
    """Weight of the contacts' mean score in a person's score (a hypothetical factor; 0 = off)."""
    ostracism: float = 0.1
    """Monthly propensity to drop a contact graded in the bottom two grades (with relationships on)."""
    black_market: float = 0.0
    """Share of persons buying fabricated positive records from a corrupt source."""
    black_market_per_month: float = 1.0
    object_propensity: float = 0.6
    """Share of wrongly recorded subjects who object (due process on)."""
    restore_propensity: float = 0.15
    """Share of negative scored records whose subject applies for restoration once eligible."""
    enrolment: float = 0.5
    """Under an opt-in scheme (Sesame): the share of the persons it rates who joined it. An
    assumption: the sources give no share; the rest have no score under it at all."""
    withdrawal: float = 0.0
    """Under an opt-in scheme with a way to leave: the share of its members who leave each month,
    by a withdrawal record (source ``self``), as a member does over the API or the portal. 0 (the
    default) draws nothing, so earlier results stand."""
    rejoin: float = 0.0
    """Under an opt-in scheme: the share of those who left, and are not members, who join again
    each month, by an enrolment record. A member who joins again starts afresh: no record known
    when they left is read again (``scoring.dispatch.usable``). 0 (the default) draws nothing."""

    def label(self) -> str:
        """The arm's name: its English as ``str`` (the report's JSON), worded for the reader by
        :func:`socialcredit.i18n.translate` (the command's lines)."""
        bits: list[str] = [
            self.scheme,
            N_("due process on") if self.due_process else N_("due process off"),
        ]
        if not self.feedback:
            bits.append(N_("no feedback"))
        if self.relationships:
            bits.append(N_("relationships {weight}", weight=f"{self.relationships:g}"))
        if self.black_market:
            bits.append(N_("black market {share}", share=f"{self.black_market:g}"))
        if self.enrolment != Settings.enrolment:
            bits.append(N_("enrolment {share}", share=f"{self.enrolment:g}"))
        if self.withdrawal:
            bits.append(N_("withdrawal {share}/month", share=f"{self.withdrawal:g}"))
        if self.rejoin:
            bits.append(N_("rejoin {share}/month", share=f"{self.rejoin:g}"))
        if self.error_rate != Settings.error_rate:
            bits.append(N_("error rate {rate}", rate=f"{self.error_rate:g}"))
        return Lines(bits, ", ")


SETTING_KEYS = {
    "due-process": "due_process",
    "feedback": "feedback",
    "heterogeneity": "heterogeneity",
    "error-rate": "error_rate",
    "relationships": "relationships",
    "ostracism": "ostracism",
    "black-market": "black_market",
    "object-propensity": "object_propensity",
    "restore-propensity": "restore_propensity",
    "enrolment": "enrolment",
    "withdrawal": "withdrawal",
    "rejoin": "rejoin",
}


def _value(key: str, text: str) -> bool | float:
    field = SETTING_KEYS[key]
    if isinstance(getattr(Settings(), field), bool):
        if text.lower() in ("on", "true", "yes", "1"):
            return True
        if text.lower() in ("off", "false", "no", "0"):
            return False
        raise ValueError(f"{key}: {text!r} is not on or off")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{key}: {text!r} is not a number") from None
    if not 0 <= number <= 1:
        raise ValueError(f"{key}: {number:g} is not between 0 and 1")
    return number


def parse_vs(spec: str, base: Settings) -> Settings:
    """The other arm of ``--vs``: comma-separated tokens over ``base``; a bare token is a scheme,
    ``key=value`` changes one setting. ``--vs due-process=off`` is the same scheme without due
    process; ``--vs suining-2010`` another scheme with the same settings.

    >>> parse_vs("due-process=off", Settings()).due_process
    False
    >>> parse_vs("suining-2010,error-rate=0.05", Settings()).scheme
    'suining-2010'
    """
    out = base
    tokens = [t.strip() for t in spec.split(",") if t.strip()]
    if not tokens:
        raise ValueError("--vs: give a scheme or key=value settings")
    for token in tokens:
        key, eq, text = token.partition("=")
        if not eq:
            out = dataclasses.replace(out, scheme=token)
            continue
        if key not in SETTING_KEYS:
            raise ValueError(f"--vs: unknown setting {key!r} (known: {', '.join(SETTING_KEYS)})")
        changes: dict[str, Any] = {SETTING_KEYS[key]: _value(key, text)}
        out = dataclasses.replace(out, **changes)
    if out == base:
        raise ValueError(f"--vs {spec}: the same as the first arm")
    return out


def scenario_registry(schemes: Iterable[Scheme], settings: Settings) -> Registry:
    """The schemes in force in the simulated world (see the module docstring). Several versions
    of one scheme may be given: each is cut down alike, and the registry keeps their timeline
    (``Registry.at`` gives a simulated day's versions, decision 0064)."""
    pool: dict[str, list[Scheme]] = {}
    for s in schemes:
        pool.setdefault(s.id, []).append(s)
    chosen = pool.get(settings.scheme)
    if chosen is None:
        raise SchemeError(
            N_("no scheme {scheme!r} (have: {have})", scheme=settings.scheme, have=", ".join(sorted(pool)))
        )
    if any(v.model is None for v in chosen):
        raise SchemeError(N_("scheme {scheme!r} has no scoring model to simulate", scheme=settings.scheme))
    kept = [settings.scheme, *(sid for sid, vs in pool.items() if all(v.model is None for v in vs))]
    ids = set(kept)
    out = []
    for s in (v for sid in kept for v in pool[sid]):
        measures = [
            m
            for m in s.measures
            if (m.trigger.scheme is None or m.trigger.scheme in ids)
            and all(ref.partition("/")[0] in ids for ref in m.trigger.lists)
        ]
        lists = s.lists
        if not settings.due_process:
            lists = [lst.model_copy(update={"notice": Notice(required=False, days=0)}) for lst in lists]
        out.append(s.model_copy(update={"measures": measures, "lists": lists}))
    return Registry.of(out)
