"""Erasure that happens on its own: ``socialcredit retention run`` (issue 21 point 2).

A record's data key (one per subject and retention class: ``shredding``) is destroyed once every
record under it has passed its retention period (the longest ``counts_for_days`` any scheme gives
its item) plus its scheme's archive period (``Scheme.archive_days``), and none of them grounds a
list entry still in force or pending: a ground (1) court listing has no fixed period and stands
until it is removed, so its record is kept as long. A record of an item no scheme in force knows
is kept (nothing says how long it counts). The records then read as erased (``store.erasure_of``):
``verify`` still counts them, no read, export or evaluator sees them, and an agency re-sending one
is told it was erased. Each run is audited (how many keys, never whose).

The same run then purges what the system wrote outside the ledger before an erasure and still
holds erased records (:meth:`Retention.purge`, decision 0055): ledger exports and rescore
outputs (registered as they are written, ``store/exportlog.py``) and kept public snapshots; the
decision states of the subjects erased are emptied, to be computed again without those records.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from socialcredit import access
from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.rules.days import day_of
from socialcredit.service.context import Context, operator
from socialcredit.service.decisions import Decisions
from socialcredit.service.disclosure import Disclosure
from socialcredit.shredding import SYSTEM, Erasure
from socialcredit.store import quarantinekeys

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
    purged_files: int = 0
    """Exports and rescore outputs deleted because they held records erased since they were made."""
    dropped_snapshots: int = 0
    """Kept public snapshots dropped for the same reason (the next rescore makes a new one)."""
    quarantine_months: int = 0
    """Months of quarantined rows made unreadable (their key destroyed: ``store/quarantinekeys.py``)."""


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one purge removed: files (exports, rescore outputs) and public snapshots."""

    files: int
    snapshots: int


class Retention:
    """Judge every live data key and destroy those whose records are all past keeping."""

    def __init__(
        self, context: Context, decisions: Decisions, *, disclosure: Disclosure | None = None
    ) -> None:
        self.context = context
        self.decisions = decisions
        self.disclosure = disclosure

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
        touched: set[str] = set()
        erased_records = kept_counting = kept_in_force = 0
        candidates: dict[tuple[str, str], tuple[str | None, set[str]]] = {}
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
            code = self._code(pair[0])
            if code is not None and self._grounds_in_force(code, {rid for rid, _, _ in records}):
                kept_in_force += 1
                continue
            candidates[pair] = (code, {rid for rid, _, _ in records})
        for pair in self._shaping_kept(candidates):
            del candidates[pair]
            kept_in_force += 1
        for pair, (code, rids) in candidates.items():
            due.append(Erasure(pair[0], pair[1], live[pair].key_id, now, RULE))
            touched.update([code] if code is not None else [])
            erased_records += len(rids)
        case_keys, kept_open = self._case_keys(now, touched)
        due += case_keys
        months = self._quarantine_keys(now)
        due += months
        kept_in_force += kept_open
        erased = vault.erase(due) if due else 0
        if due:  # a subject left with no record key: its audit entries' codes go too (0060)
            store.erase_audit_keys([e.pseudonym for e in due], now, RULE)
        lookups = self._lookup_keys(now)
        if erased or lookups:  # every process's views forget what the keys opened (0094)
            store.mark_erasure(now)
        if erased:
            self.context.views.invalidate()
            store.empty_decision_states(touched)  # their inputs lost records: computed again
        purged = self.purge()
        self.context.audit(
            principal or operator("retention"),
            "retention",
            detail={
                "erased_keys": erased,
                "quarantine_months": len(months),
                "lookup_keys": lookups,
                "erased_records": erased_records,
                "rule": RULE,
                "purged_files": purged.files,
                "dropped_snapshots": purged.snapshots,
            },
        )
        return RetentionReport(
            now,
            erased,
            erased_records,
            kept_counting,
            kept_in_force,
            purged.files,
            purged.snapshots,
            len(months),
        )

    def purge(self) -> PurgeReport:
        """Remove what the system wrote before an erasure that holds erased records: every
        registered export or rescore output made from records up to a position at or past the
        first record under a key erased after it was made (``store/exportlog.py``), and every
        kept public snapshot computed from such records before the erasure; the public state
        held in memory is dropped with them. Any erasure counts (this run's, an earlier one's,
        one on request, one a restore replayed), so calling it after erasing is enough.

        Why delete and not rewrite: the run is daily, and a national export takes hours; the
        next ``export`` or ``rescore`` finds no earlier export there and writes a full one,
        which leaves erased records out (decision 0055)."""
        store = self.context.store
        log = store.sealing.vault.store.erasures()
        files = snapshots = 0
        for export in store.exports.exports():
            path = Path(export.path)
            if not path.exists():
                store.exports.forget(path)  # removed by hand: nothing left to purge
                continue
            since = [(e.pseudonym, e.klass) for e in log[export.erasures_seen :]]
            first = store.first_seq_under(since) if since else None
            if first is None or first > export.chain_count:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            store.exports.forget(path)
            files += 1
        if self.disclosure is not None and log:
            self.disclosure.forget()  # waits for a rescore under way: it may save a snapshot
        for snapshot in store.snapshots():
            since = [(e.pseudonym, e.klass) for e in log if e.at >= snapshot.as_of]
            first = store.first_seq_under(since) if since else None
            if first is not None and first <= snapshot.records_head:
                snapshots += store.drop_snapshot(snapshot.name)
        return PurgeReport(files, snapshots)

    def _case_keys(self, now: dt.datetime, touched: set[str]) -> tuple[list[Erasure], int]:
        """The case keys (class ``cases.YEAR``, decision 0061) due to go, and how many are kept
        because a case under them is open. A case key goes once every case under it is closed
        and its last step is older than the longest archive period any scheme gives (its file
        is what a review, an appeal or a complaint about the case reads until then); never
        while a case under it is open: an open objection may suspend a listing, and an open
        request must be decided from its file. The subjects of the keys due are added to
        ``touched`` (their decision states are emptied)."""
        store = self.context.store
        vault = store.sealing.vault
        archive = max((s.archive_days for s in self.context.registry.schemes.values()), default=730)
        groups = store.case_groups()
        live = vault.store.wrapped_keys(list(groups))
        due: list[Erasure] = []
        kept_open = 0
        for (pseudonym, klass), w in live.items():
            events = store.case_events_under(pseudonym, klass)
            by_case: dict[str, list[CaseEvent]] = {}
            for e in events:
                by_case.setdefault(e.case_id, []).append(e)
            if any(self.decisions.casefiles.fold(evs).is_open for evs in by_case.values()):
                kept_open += 1
                continue
            if events and max(e.at for e in events) + dt.timedelta(days=archive) > now:
                continue
            due.append(Erasure(pseudonym, klass, w.key_id, now, RULE))
            touched.update(e.subject for e in events[:1])  # its views folded these cases
        return due, kept_open

    def _lookup_keys(self, now: dt.datetime) -> int:
        """Destroy the audit key of each person no live record key stands for (never recorded,
        only looked up; or recorded, erased, and looked up again) once their newest audit entry
        is older than the longest archive period any scheme gives: the time a closed case file
        is kept for a review or a complaint (``_case_keys``), and a look is what a person may
        complain of. Not the longest retention of any item: a consent is kept a century
        (decision 0071). Returns how many keys were destroyed. A person with a live record key
        keeps theirs: it goes with their last record key (decision 0060)."""
        store = self.context.store
        archive = max((s.archive_days for s in self.context.registry.schemes.values()), default=730)
        stale = store.stale_audit_keys(now - dt.timedelta(days=archive))
        live = store.sealing.vault.store.wrapped_keys(stale) if stale else {}
        return store.erase_audit_keys([p for p, _ in live], now, RULE) if live else 0

    def _quarantine_keys(self, now: dt.datetime) -> list[Erasure]:
        """The live quarantine keys of months past keeping (``quarantinekeys.KEEP_DAYS`` after
        the month ended): their rows then read as erased, their reasons and counts stay."""
        store = self.context.store
        vault = store.sealing.vault
        months = quarantinekeys.due(store.quarantine_classes(), day_of(now))
        live = vault.store.wrapped_keys([(SYSTEM, k) for k in months])
        return [Erasure(SYSTEM, k, w.key_id, now, RULE) for (_, k), w in live.items()]

    def _code(self, pseudonym: str) -> str | None:
        """The subject code behind a pseudonym, opened from a record with a live key."""
        store = self.context.store
        with store.reader.connect() as conn:
            return store.code_map(conn, [pseudonym]).get(pseudonym)

    def _shaping_kept(
        self, candidates: dict[tuple[str, str], tuple[str | None, set[str]]]
    ) -> set[tuple[str, str]]:
        """The keys due by their dates that must stay because a record under one ends or extends
        a list entry (its ``ended_by``, its ``extended_by``) whose ground record stays readable,
        or corrects or withdraws a record that stays readable: erasing the removal alone would
        list the subject again (a ground (1) court listing "stands until removed", SPC Art. 2
        and 10), erasing the extension alone would end an extended listing early, erasing a
        withdrawal alone would let the wrong record count again. Keeping one key may keep
        another (a record under it may be the ground of an entry another key's record ends),
        so this runs until nothing changes."""
        shaping: dict[tuple[str, str], list[tuple[str, ...]]] = {}
        for pair, (code, rids) in candidates.items():
            if code is None:
                continue
            shaped = [
                e.grounds
                for e in self.decisions.view(code).entries
                if (e.ended_by in rids or e.extended_by in rids) and e.grounds
            ]
            readable = self.context.store.records_for(code)  # an erased record is left out
            held = {r.record_id for r in readable}
            shaped += [(r.corrects,) for r in readable if r.record_id in rids and r.corrects in held]
            if shaped:
                shaping[pair] = shaped
        kept: set[tuple[str, str]] = set()
        while True:
            erased = {rid for pair, (_, rids) in candidates.items() if pair not in kept for rid in rids}
            more = {
                pair
                for pair, shaped in shaping.items()
                if pair not in kept and any(g not in erased for grounds in shaped for g in grounds)
            }
            if not more:
                return kept
            kept |= more

    def _grounds_in_force(self, code: str, record_ids: set[str]) -> bool:
        """Whether any of these records grounds a list entry of its subject in force or pending."""
        view = self.decisions.view(code)
        return any(e.status in IN_FORCE and record_ids & set(e.grounds) for e in view.entries)
