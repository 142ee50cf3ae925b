"""Erasure that happens on its own: ``socialcredit retention run`` (issue 21 point 2).

A record's data key (one per subject and retention class: ``shredding``) is destroyed once every
record under it has passed its retention period (the longest ``counts_for_days`` any scheme gives
its item) plus its scheme's archive period (``Scheme.archive_days``), and none of them grounds a
list entry still in force or pending: a ground (1) court listing has no fixed period and stands
until it is removed, so its record is kept as long. A record of an item no scheme in force knows
is kept (nothing says how long it counts). The records then read as erased (``store.erasure_of``):
``verify`` still counts them, no read, export or evaluator sees them, and an agency re-sending one
is told it was erased. Each run is audited (how many keys, never whose).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from socialcredit import access
from socialcredit.rules.days import day_of
from socialcredit.service.context import Context, operator
from socialcredit.service.decisions import Decisions
from socialcredit.shredding import Erasure

RULE = "retention"
"""The rule an automatic erasure names: retention period plus archive period, nothing in force."""
IN_FORCE = ("active", "pending")


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one run did: keys destroyed and the records under them, and keys kept and why."""

    at: dt.datetime
    erased_keys: int
    erased_records: int
    kept_counting: int
    kept_in_force: int


class Retention:
    """Judge every live data key and destroy those whose records are all past keeping."""

    def __init__(self, context: Context, decisions: Decisions) -> None:
        self.context = context
        self.decisions = decisions

    def horizons(self) -> dict[str, int]:
        """Days after a record of each item occurred until its key may go: the longest retention
        plus archive period any scheme gives it."""
        out: dict[str, int] = {}
        for scheme in self.context.registry.schemes.values():
            for item in scheme.items:
                out[item.code] = max(out.get(item.code, 0), item.counts_for_days + scheme.archive_days)
        return out

    def run(self, principal: access.Principal | None = None) -> RetentionReport:
        now = self.context.clock()
        today = day_of(now)
        store = self.context.store
        vault = store.sealing.vault
        horizon = self.horizons()
        groups = store.sealed_groups()
        live = vault.store.wrapped_keys(list(groups))
        due: list[Erasure] = []
        erased_records = kept_counting = kept_in_force = 0
        for pair, records in groups.items():
            w = live.get(pair)
            if w is None:
                continue  # erased before
            if any(
                item not in horizon or occurred + dt.timedelta(days=horizon[item]) > today
                for _, item, occurred in records
            ):
                kept_counting += 1
                continue
            if self._grounds_in_force(pair[0], {rid for rid, _, _ in records}):
                kept_in_force += 1
                continue
            due.append(Erasure(pair[0], pair[1], w.key_id, now, RULE))
            erased_records += len(records)
        erased = vault.erase(due) if due else 0
        if erased:
            self.context.views.invalidate()
        self.context.audit(
            principal or operator("retention"),
            "retention",
            detail={"erased_keys": erased, "erased_records": erased_records, "rule": RULE},
        )
        return RetentionReport(now, erased, erased_records, kept_counting, kept_in_force)

    def _grounds_in_force(self, pseudonym: str, record_ids: set[str]) -> bool:
        """Whether any of these records grounds a list entry of its subject in force or pending."""
        store = self.context.store
        with store.reader.connect() as conn:
            code = store.code_map(conn, [pseudonym]).get(pseudonym)
        if code is None:
            return False
        view = self.decisions.view(code)
        return any(e.status in IN_FORCE and record_ids & set(e.grounds) for e in view.entries)
