"""The base of the application services: ingestion, a subject's view, audited reads and
decisions, keys and integrity, over the due-process cases it reads (``casefiles.py``: a view
needs them, since an open objection may suspend a list's measures).

The services are the seam between core and adapters: they read plain records from the store, ask
the core what they mean, and write the audit entry before any answer leaves. The API, the CLI and
the portal all call them, so each answer is computed once, one way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from socialcredit import access, codes, ledger
from socialcredit.chaincheck import ChainProblem
from socialcredit.decisions import Decision, decide
from socialcredit.dueprocess import restoration
from socialcredit.dueprocess.cases import Objection
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.errors import Conflict, Refused
from socialcredit.errors import Unauthenticated as Unauthenticated
from socialcredit.ledger import IngestResult, Quarantined, Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.schemes.loader import Registry
from socialcredit.scoring import Score, scores_for
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.casefiles import NotFound as NotFound
from socialcredit.service.sealing import Sealer, sealed_chunks
from socialcredit.service.views import Cached, ViewCache, next_midnight
from socialcredit.store import Store, StoredKey
from socialcredit.store.auditwriter import AuditWriter
from socialcredit.store.markers import HeadReader
from socialcredit.store.subjectreads import read_subject
from socialcredit.subjects import SubjectRow, validate_subject


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class SubjectView:
    """Everything derived about one subject at one time."""

    code: str
    kind: codes.SubjectKind
    as_of: dt.datetime
    subject: SubjectRow | None
    records: list[Record]
    scores: dict[str, Score]
    entries: list[ListEntry]


Row = tuple[int, Mapping[str, Any]] | Quarantined


@dataclass(frozen=True)
class RegisterResult:
    """Subjects submitted = added + updated + unchanged + quarantined."""

    submitted: int
    added: int
    updated: int
    unchanged: int
    quarantined: int
    quarantine: tuple[Quarantined, ...] = ()


@dataclass(frozen=True)
class SubjectSummary:
    """One subject in a population scan: its scores (score, grade) by scheme and list entries;
    ``records`` are kept only where a public page may need them (organisations, listed subjects)."""

    code: str
    kind: codes.SubjectKind
    row: SubjectRow | None
    scores: dict[str, tuple[int, str]]
    entries: list[ListEntry]
    records: list[Record]


class Base(CaseFiles):
    """One installation: a store and the schemes in force."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        holidays: frozenset[dt.date] = frozenset(),
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.holidays = holidays
        self._scan_cache: tuple[tuple[tuple[int, int], dt.date], list[SubjectSummary]] | None = None
        # Kept current with the store (service/views.py); decisions and views for "now" use it.
        self._views = ViewCache(HeadReader(store), store.subjects_touched_since)
        # Group commit of audit entries (store/auditwriter.py): one transaction for all waiting.
        self._auditor = AuditWriter(store)
        # Verified tokens -> (principal, trusted until (monotonic), expires_at); see authenticate.
        self._principals: dict[str, tuple[access.Principal, float, dt.datetime | None]] = {}

    def ingest(
        self,
        rows: Iterable[Row],
        *,
        origin: str,
        principal: access.Principal,
        chunk_size: int = 20_000,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Validate, deduplicate, chain and store a batch. Each chunk commits on its own, so a
        crash loses at most the chunk in flight, and re-submitting the same file afterwards
        finds the committed rows as duplicates. Rows are validated and sealed (everything but
        their place in the chain) before the store takes the chain's lock for the chunk; in a big
        batch a helper process seals ahead while this one stores (``service/sealing.py``)."""
        if principal.role not in ("agency", "operator"):
            raise access.AccessDenied("only agencies and operators submit records")
        source = principal.principal if principal.role == "agency" else None
        now = self.clock()
        batch_id = secrets.token_hex(8)
        self.store.begin_batch(
            batch_id=batch_id, origin=origin, source=source, submitted_by=principal.key_id, at=now
        )
        sealer = Sealer(self.registry, now, source, self.store.stored_row())
        chunks = sealed_chunks(_chunks(rows, chunk_size), sealer)

        totals = Counter[str]()
        sample: list[Quarantined] = []
        for chunk, out in self.store.append_chunks(
            chunks, batch_id=batch_id, received_at=now, may_correct_any=principal.role == "operator"
        ):
            totals.update(
                submitted=chunk.submitted,
                accepted=out.accepted,
                duplicate=out.duplicate,
                quarantined=len(out.quarantined),
            )
            if len(sample) < 100:
                sample.extend(out.quarantined[: 100 - len(sample)])
            if progress is not None:
                progress(chunk.submitted)
        return IngestResult(
            batch_id,
            totals["submitted"],
            totals["accepted"],
            totals["duplicate"],
            totals["quarantined"],
            tuple(sorted(sample, key=lambda q: q.row_number)),
        )

    def register(self, subjects: Iterable[SubjectRow]) -> tuple[int, int, int]:
        """Register already-validated subjects: (added, updated, unchanged). Cached views are
        dropped: a new legal representative moves an organisation's listings between persons."""
        try:
            return self.store.upsert_subjects(list(subjects), self.clock())
        finally:
            self._views.invalidate()

    def register_rows(self, rows: Iterable[Row], *, principal: access.Principal) -> RegisterResult:
        """Register submitted subject rows (operators only); each row is added, updated,
        unchanged, or quarantined with the reasons."""
        access.require(principal.role == "operator", "register subjects")
        good: list[SubjectRow] = []
        bad: list[Quarantined] = []
        n_rows = 0
        for row in rows:
            n_rows += 1
            if isinstance(row, Quarantined):
                bad.append(row)
                continue
            n, raw = row
            try:
                good.append(validate_subject(raw))
            except ledger.RowError as exc:
                bad.append(Quarantined(n, raw, exc.reasons))
        added, updated, unchanged = self.register(good)
        return RegisterResult(n_rows, added, updated, unchanged, len(bad), tuple(bad[:100]))

    def view(self, code: str, as_of: dt.datetime | None = None) -> SubjectView:
        """Scores under every scored scheme and every list entry of ``code`` at ``as_of``; for
        now (no ``as_of``) from the view cache, which is checked against the store first."""
        c = codes.validate(code)
        if as_of is not None:
            return self._compute(c.value, c.kind, as_of)[0]
        at = self.clock()
        view: SubjectView = self._cached(c.value, c.kind, at).view
        return dataclasses.replace(view, as_of=at)

    def _cached(self, code: str, kind: codes.SubjectKind, at: dt.datetime) -> Cached:
        """The cache entry for ``code`` at ``at`` (now), computed and stored on a miss."""
        self._registry_replaced()
        generation = self._views.current()
        assert generation is not None
        entry = self._views.get(code, at)
        if entry is None:
            view, valid_until, represents = self._compute(code, kind, at)
            entry = Cached(view, valid_until, represents, time.monotonic())
            self._views.put(code, entry, generation)
        return entry

    def _compute(
        self, code: str, kind: codes.SubjectKind, at: dt.datetime
    ) -> tuple[SubjectView, dt.datetime, tuple[str, ...]]:
        """The view at ``at``, until when it holds unchanged (the next midnight, or the first
        later ``reported_at`` or case event among its inputs), and the organisations it includes
        as legal representative. Its inputs come in one read (``store/subjectreads.py``)."""
        inputs = read_subject(self.store, code, representatives=kind == "person")
        void = self.unrestorable_items()
        records = [r for r in ledger.effective(inputs.records, at, (), void) if r.subject == code]
        represented = {
            org: [r for r in ledger.effective(recs, at, (), void) if r.subject == org]
            for org, recs in inputs.represented.items()
        }
        scores = scores_for(code, kind, records, self.registry.scored(), at)
        entries = entries_for(
            code,
            records,
            self.registry,
            at,
            represented=represented,
            terms=inputs.terms,
            holidays=self.holidays,
        )
        later = [r.reported_at for r in inputs.records if r.reported_at > at]
        later += [r.reported_at for recs in inputs.represented.values() for r in recs if r.reported_at > at]
        objections: list[Objection] = []
        for events in inputs.objection_events.values():
            objections.extend(self._fold_objections(events, at))
            later += [e.at for e in events if e.at > at]
        entries = apply_suspensions(entries, objections, self.registry)
        view = SubjectView(code, kind, at, inputs.subject, records, scores, entries)
        return view, min([next_midnight(at), *later]), tuple(represented)

    def read(
        self, code: str, principal: access.Principal, *, purpose: str, as_of: dt.datetime | None = None
    ) -> SubjectView:
        """A subject's record for someone allowed to see it, audited before it is returned."""
        c = codes.validate(code)
        access.require(self.may_act_for(principal, c.value), "read this subject's record")
        view = self.view(c.value, as_of)
        self._audit(
            principal,
            "read",
            subject=c.value,
            purpose=purpose,
            answer="shown",
            detail={"as_of": ledger.iso_dt(view.as_of)},
        )
        return view

    def check(
        self,
        code: str,
        measure_id: str,
        principal: access.Principal,
        *,
        purpose: str,
        at: dt.datetime | None = None,
    ) -> Decision:
        """The relying party's question, answered and audited (returns once the audit entry is
        committed)."""
        decision, committed = self.check_submit(code, measure_id, principal, purpose=purpose, at=at)
        committed.result()
        return decision

    def check_submit(
        self,
        code: str,
        measure_id: str,
        principal: access.Principal,
        *,
        purpose: str,
        at: dt.datetime | None = None,
    ) -> tuple[Decision, Future[None]]:
        """The decision, its audit entry handed to the group commit: the answer may be given
        once the future completes, never before."""
        prepared = self._prepare_check(code, measure_id, principal, purpose=purpose, at=at)
        assert prepared is not None
        return prepared[0], self._auditor.submit(prepared[1])

    async def check_async(
        self, code: str, measure_id: str, principal: access.Principal, *, purpose: str
    ) -> Decision:
        """:meth:`check` for an event loop: with the subject's view cached and the change marker
        fresh, the decision is microseconds of work done on the loop, and the request then waits
        for its audit entry's group commit without holding a thread; anything needing the store
        (a cold subject, a moved marker) runs in a worker thread instead."""
        prepared = self._prepare_check(code, measure_id, principal, purpose=purpose, fast=True)
        if prepared is None:
            prepared = await asyncio.to_thread(
                self._prepare_check, code, measure_id, principal, purpose=purpose
            )
        assert prepared is not None
        await self._auditor.submit_async(prepared[1])
        return prepared[0]

    def _prepare_check(
        self,
        code: str,
        measure_id: str,
        principal: access.Principal,
        *,
        purpose: str,
        at: dt.datetime | None = None,
        fast: bool = False,
    ) -> tuple[Decision, dict[str, Any]] | None:
        """The decision and its audit entry. With ``fast``, only if that needs no I/O (a cached
        view and a fresh change marker), else ``None``."""
        measure = self._measure(measure_id)
        if measure is None:
            raise NotFound(f"no measure {measure_id!r}", field="measure")
        access.require(access.may_ask(principal, measure), f"ask about measure {measure_id}")
        if at is not None:
            c = codes.validate(code)
            decision = _decide(self._compute(c.value, c.kind, at)[0], measure)
            return decision, _decision_entry(principal, decision, purpose, _detail(decision))
        now = self.clock()
        generation = self._views.current(may_block=not fast)
        if generation is None:
            return None
        entry = self._views.get(code, now)  # a cached code is valid and canonical
        if entry is None:
            if fast:
                return None
            c = codes.validate(code)
            entry = self._cached(c.value, c.kind, now)
        prepared = entry.decisions.get(measure.id)
        if prepared is None:
            d = _decide(entry.view, measure)
            prepared = entry.decisions[measure.id] = (d, _detail(d))
        d = prepared[0]
        decision = Decision(d.subject, d.measure, d.measure_kind, d.allowed, now, d.reasons)
        return decision, _decision_entry(principal, decision, purpose, prepared[1])

    def _measure(self, measure_id: str) -> Any:
        """The registry's measure by id, from a table built once per registry object (the
        registry's own lookup builds a dict of every measure on each call)."""
        table = self.__dict__.get("_measures")
        if table is None or table[0] is not self.registry:
            self._registry_replaced()
            table = self.__dict__["_measures"]
        return table[1].get(measure_id)

    def unrestorable_items(self) -> frozenset[str]:
        """The items whose records credit restoration may not end under the schemes in force
        (``dueprocess.restoration``), computed once per registry."""
        cached = self.__dict__.get("_unrestorable")
        if cached is None or cached[0] is not self.registry:
            cached = (self.registry, frozenset(restoration.unrestorable(self.registry.schemes.values())))
            self.__dict__["_unrestorable"] = cached
        found: frozenset[str] = cached[1]
        return found

    def _registry_replaced(self) -> None:
        """Forget everything computed under another registry (cached views and decisions are
        scores, lists and measures of the schemes in force)."""
        table = self.__dict__.get("_measures")
        if table is None or table[0] is not self.registry:
            if table is not None:
                self._views.invalidate()
            self.__dict__["_measures"] = (self.registry, self.registry.measures())

    def _audit(self, principal: access.Principal, action: str, **fields: Any) -> None:
        self._auditor.append(
            {
                "at": self.clock(),
                "key_id": principal.key_id,
                "role": principal.role,
                "principal": principal.principal,
                "action": action,
                **fields,
            }
        )

    def audit_log(
        self,
        principal: access.Principal,
        *,
        subject: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[dict[str, Any]]:
        """The audit log for auditors; a subject sees the entries about itself."""
        if principal.role == "subject":
            subject = principal.principal
        else:
            access.require(access.may_read_audit(principal), "read the audit log")
        return self.store.audit_entries(subject=subject, limit=limit, before=before)

    def verify(self) -> dict[str, list[ChainProblem]]:
        """Every chain's faults, each named once (``chaincheck``); empty lists when intact."""
        return {
            "records": self.store.verify_records(),
            "audit": self.store.verify_audit(),
            "cases": self.store.verify_cases(),
            "registry": self.store.verify_registry(),
        }

    def create_key(
        self,
        role: access.Role,
        principal: str | None,
        *,
        name: str = "",
        expires_at: dt.datetime | None = None,
    ) -> access.NewKey:
        key = access.new_key(role, principal, name=name, now=self.clock(), expires_at=expires_at)
        self.store.add_key(
            StoredKey(
                key.key_id,
                key.token_hash,
                key.role,
                key.principal,
                key.name,
                key.created_at,
                key.expires_at,
                None,
            )
        )
        return key

    def authenticate(self, token: str | None) -> access.Principal:
        """The principal of a presented token, or :class:`Unauthenticated`, asking the store
        (so a revocation made anywhere counts at once). The verified token is remembered for
        :meth:`cached_principal`, the hot path's cheaper check."""
        if not token:
            raise Unauthenticated("no API key given")
        key_id = access.split_token(token)
        stored = self.store.key(key_id) if key_id else None
        if stored is None or not access.tokens_match(token, stored.token_hash):
            raise Unauthenticated("unknown API key")
        now = self.clock()
        if stored.revoked_at is not None:
            raise Unauthenticated("this API key was revoked")
        if stored.expires_at is not None and stored.expires_at <= now:
            raise Unauthenticated("this API key has expired")
        role: access.Role = stored.role  # type: ignore[assignment]
        principal = access.Principal(stored.key_id, role, stored.principal, stored.name)
        if len(self._principals) >= 10_000:
            self._principals.clear()
        self._principals[token] = (principal, time.monotonic() + KEY_TRUST_SECONDS, stored.expires_at)
        return principal

    def cached_principal(self, token: str | None) -> access.Principal | None:
        """The principal of a token :meth:`authenticate` verified less than ``KEY_TRUST_SECONDS``
        (one second) ago, without touching the store, so an event loop may call it; ``None``
        when :meth:`authenticate` must be asked. A revocation through this system
        (:meth:`revoke_key`, :meth:`rotate_key`) counts at once, one made by another process
        within that second; an expiry is checked on every call."""
        hit = self._principals.get(token) if token else None
        if hit is None or hit[1] < time.monotonic():
            return None
        principal, _, expires_at = hit
        if expires_at is not None and expires_at <= self.clock():
            raise Unauthenticated("this API key has expired")
        return principal

    def revoke_key(self, key_id: str) -> bool:
        """Revoke an active key (False if there is none), trusted by no cache from now on."""
        try:
            return self.store.revoke_key(key_id, self.clock())
        finally:
            self.forget_key(key_id)

    def rotate_key(
        self, key_id: str, *, expires_at: dt.datetime | None | bool = True
    ) -> access.NewKey | None:
        """A new token for an active key's role and principal, the old one revoked at once;
        ``None`` if there is no active key ``key_id``. ``expires_at=True`` keeps the old expiry.
        An expiry that has passed is refused here, naming the field (a kept one as a
        :class:`Conflict` on ``key_id``), before the store would refuse it in its transaction."""
        now = self.clock()
        if isinstance(expires_at, dt.datetime) and expires_at <= now:
            raise Refused("the new key's expiry must be in the future", field="expires_at")
        stored = self.store.key(key_id) if expires_at is True else None
        if stored and stored.revoked_at is None and stored.expires_at and stored.expires_at <= now:
            why = f"key {key_id} has expired; give the new key an expiry in the future"
            raise Conflict(why, field="key_id")
        try:
            return self.store.rotate_key(key_id, now, expires_at=expires_at)
        finally:
            self.forget_key(key_id)

    def forget_key(self, key_id: str) -> None:
        """Stop trusting remembered tokens of ``key_id`` (call after revoking or rotating it)."""
        for token, (p, _, _) in list(self._principals.items()):
            if p.key_id == key_id:
                self._principals.pop(token, None)

    def operator(self, by: str | None = None) -> access.Principal:
        """The principal of a local command-line user, who owns the installation. ``by`` names the
        person acting, as an operator key names its holder: a case decision from the command line
        is recorded against that person (without it, against ``local``)."""
        return access.Principal("local", "operator", access.holder_name(by) if by else None, "command line")


KEY_TRUST_SECONDS = 1.0


def _decide(view: SubjectView, measure: Any) -> Decision:
    return decide(
        subject=view.code,
        subject_kind=view.kind,
        measure=measure,
        entries=view.entries,
        scores=view.scores,
        at=view.as_of,
    )


def _detail(decision: Decision) -> dict[str, Any]:
    return {
        "reasons": [r.text for r in decision.reasons],
        "grounds": sorted({g for r in decision.reasons for g in r.grounds}),
    }


def _decision_entry(
    principal: access.Principal, decision: Decision, purpose: str, detail: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "at": decision.at,
        "key_id": principal.key_id,
        "role": principal.role,
        "principal": principal.principal,
        "action": "decision",
        "subject": decision.subject,
        "measure": decision.measure,
        "purpose": purpose,
        "answer": decision.answer,
        "detail": detail,
    }


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
