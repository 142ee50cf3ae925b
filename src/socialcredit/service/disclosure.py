"""Disclosure: public lists with exactly their published fields, what each list holds, public
lookups where a scheme allows them, the sources' accuracy, removals reported late and the
transparency report, each served from the public state (``service/publicstate.py``).

Why from state: on a request of a started server the pages never scan the population (issue 20
point 6; docs/decisions/0049-public-pages-from-state.md). The state is derived from the last
population scan (``service/scans.py``) and follows the records and cases as they arrive (a
rescan recomputes only the subjects touched since); on a new day, or in a process just started,
the server serves the state it kept (in memory, else the store's snapshot), labelled "as of the
rescore of ..." with the moment it describes, while it rescores in the background. A page for a
past moment (``as_of``, ``known_at``) is computed subject by subject for it, as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from socialcredit import access, codes, i18n
from socialcredit.dueprocess.cases import publicised_penalty, published_until
from socialcredit.errors import NotPublic
from socialcredit.i18n import N_
from socialcredit.rules import days
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import SchemeError
from socialcredit.service import publicstate, publicwords, transparency
from socialcredit.service.casefiles import CaseFiles, NotFound
from socialcredit.service.context import Context
from socialcredit.service.decisions import Decisions
from socialcredit.service.enrolments import consented
from socialcredit.service.publiclists import PER_PAGE, ListCensus, PublicPage, census, search_page
from socialcredit.service.publicstate import LateRemoval, PublicState, Rows, SourceAccuracy
from socialcredit.service.scans import PopulationSummary, Scans, SubjectSummary

log = logging.getLogger(__name__)

__all__ = ["Disclosure", "LateRemoval", "PopulationSummary", "SourceAccuracy", "SubjectSummary"]


class Disclosure:
    """The public pages, over the population scan (``scans``) and the case files.

    ``background``: whether a stale state is rescored in a background thread while the kept one
    is served, labelled (a server: ``socialcredit serve`` sets it), or computed before answering
    (the command line, a library caller, the tests: nobody waits on a page there)."""

    def __init__(self, context: Context, *, casefiles: CaseFiles, decisions: Decisions) -> None:
        self.context = context
        self.casefiles = casefiles
        self.decisions = decisions
        self.scans = Scans(context, casefiles=casefiles, decisions=decisions)
        self.background = False
        self.follows = False  # pages from the snapshots the rescorer process writes (0087)
        self.publishes = False  # every state derived is written to the store (the rescorer)
        self._state: PublicState | None = None
        self._followed: PublicState | None = None  # the last snapshot read while following
        self._followed_mark: tuple[dt.datetime, int, int, str] | None = None
        self._computing = threading.Lock()  # one scan at a time: a request's or the background's
        self._rescoring: threading.Thread | None = None
        self._erasures: tuple[int, dt.datetime] | None = None  # the erasure log's last entry seen
        self._erasures_read = False
        # a list's rows worded per language, with the state's rows they were worded from: a
        # list page reads them twice, and a Chinese page is the portal's default (decision 0097)
        self._worded: dict[tuple[str, str], tuple[Rows, Rows]] = {}

    def scan(
        self, as_of: dt.datetime | None = None, progress: Callable[[int], None] | None = None
    ) -> list[SubjectSummary]:
        """Every subject's scores and list entries at ``as_of`` (:meth:`Scans.scan`), one scan at
        a time (a background rescore may be running: the kept scan is replaced by one of them)."""
        with self._computing:
            return self.scans.scan(as_of, progress)

    def population(
        self,
        as_of: dt.datetime | None = None,
        progress: Callable[[int], None] | None = None,
        known_at: dt.datetime | None = None,
    ) -> PopulationSummary:
        """Grade distribution per scheme and active list sizes, with examples, as known at
        ``known_at`` when given (:meth:`Scans.population`; one scan at a time, as :meth:`scan`)."""
        with self._computing:
            return self.scans.population(as_of, progress, known_at)

    def state(self) -> PublicState:
        """The public pages now: the kept state if nothing changed since (same records, cases,
        schemes and day); else, where only some subjects were touched the same day, those
        recomputed; else (a new day, or nothing in memory) a full rescore, which a server runs in
        the background while it serves what it kept, labelled with its moment (the store's
        snapshot after a start). Only a store never rescored is rescored on the request."""
        at = self.context.clock()
        key = self._key()
        self._follow_erasures()
        kept = self._state
        if kept is not None and kept.key == key and day_of(kept.as_of) == day_of(at):
            return kept
        if not self.background:
            with self._computing:
                return self._compute(at, key)
        followed = self._follow_snapshot(key, at) if self.follows else None
        if followed is not None and followed.rescore_of is None:
            self.scans.forget()  # a scan this worker made (a store never rescored) is not needed
            return followed  # the rescorer's state of now: current
        if self.scans.kept_on(day_of(at)) and self._computing.acquire(blocking=False):
            try:  # only the subjects touched since: no population scan
                return self._compute(at, key)
            finally:
                self._computing.release()
        if followed is not None:
            return followed  # the rescorer is behind a write or the day: its last, labelled
        if not self.follows:
            self._rescore_in_background()
        if kept is not None:
            return kept.kept()
        kept_state = self._kept_snapshot()
        if kept_state is not None:
            return kept_state
        with self._computing:  # never rescored: nothing to serve but the first rescore
            return self._compute(at, key)

    def serve(self) -> None:
        """Serve the public pages as a server does: a stale state rescored in the background
        (``background``), the first rescore started now, and the day table read now, so the
        first request reads only the kept state (the store's snapshot) and answers at once."""
        self.background = True
        days.china()  # the zone's offsets, read once per process: not on the first request
        self._follow_erasures()
        kept = self._kept_snapshot()
        self._key()  # the chain heads' query compiled now, not on the first request
        if kept is not None:  # served, labelled, until the rescore below replaces it
            self._state = kept
        self._rescore_in_background()

    def follow(self) -> None:
        """Serve the public pages from the snapshots another process writes (the installation's
        rescorer, :meth:`keep`; decision 0087): no rescore in this process, so none shares its
        interpreter with requests. A snapshot of the chains and day a request finds is served as
        current; an older one labelled with its rescore, until the rescorer catches up (it
        follows every write within its pass, :data:`KEEP_EVERY_S`). Only a store never rescored
        is rescored here, on the request, as before."""
        self.background = self.follows = True
        days.china()
        self._follow_erasures()
        self._follow_snapshot(self._key(), self.context.clock())  # read now, not on a request

    def keep(self, stop: threading.Event, every: float = 0.0) -> None:
        """Be the installation's rescorer until ``stop`` (decision 0087): a full rescore now and
        on each new day, the subjects touched by each write recomputed within ``every`` seconds
        (default :data:`KEEP_EVERY_S`), and every state written to the store as the snapshot the
        servers' workers follow. A failed pass is logged; the next one tries again."""
        self.background, self.publishes = False, True
        while not stop.is_set():
            try:
                self.state()
            except Exception:  # the servers go on serving the last snapshot, labelled
                log.exception("rescoring the public pages failed")
            stop.wait(every or KEEP_EVERY_S)

    def rescore(self) -> PublicState:
        """Rescore the whole population now and keep the public state in the store (what a
        server started later serves first); returns it."""
        with self._computing:
            self.scans.forget()
            return self._compute(self.context.clock(), self._key())

    def forget(self) -> None:
        """Drop the public state and the scan kept in memory (records were erased: neither key
        nor head moved, yet they may name them); waits for a rescore under way to end first."""
        with self._computing:
            self.scans.forget()
            self._state = self._followed = None

    def _follow_erasures(self) -> None:
        """Forget the public state if records were erased since this process last looked, by
        any process. Why: an erasure appends to no chain the state's key follows (a retention
        run appends nothing at all), and the process that erased forgets only its own state
        (``Retention.purge``); every other worker of ``serve --workers N`` would go on serving
        pages computed from the erased records until its next rescore. The erasure log's last
        entry is one indexed read per page (the key store's ``last_erasure``)."""
        last = self.context.store.sealing.vault.store.last_erasure()
        if self._erasures_read and last != self._erasures:
            self.forget()  # waits for a rescore under way, which may hold the erased records
        self._erasures, self._erasures_read = last, True

    def _kept_snapshot(self) -> PublicState | None:
        """The state the store kept, unless it was computed before the last erasure:
        ``Retention.purge`` drops such a snapshot, but another process may read it first."""
        snapshot = self.context.store.snapshot(publicstate.SNAPSHOT)
        if snapshot is None or (self._erasures is not None and self._erasures[1] >= snapshot.as_of):
            return None
        return publicstate.PublicState.of_snapshot(snapshot)

    def _follow_snapshot(self, key: publicstate.Key, at: dt.datetime) -> PublicState | None:
        """The newest snapshot the rescorer wrote, read whole only when its mark moved: current
        (kept from now's chains, schemes and day) as it is, else labelled with its rescore; None if
        there is none, or it was computed before the last erasure."""
        mark = self.context.store.snapshot_mark(publicstate.SNAPSHOT)
        if mark is None or (self._erasures is not None and self._erasures[1] >= mark[0]):
            return None
        if self._followed is None or mark != self._followed_mark:
            snapshot = self.context.store.snapshot(publicstate.SNAPSHOT)
            if snapshot is None:
                return None
            kept = publicstate.PublicState.of_snapshot(snapshot)
            self._followed = dataclasses.replace(kept, rescore_of=None)
            s = snapshot
            self._followed_mark = (s.as_of, s.records_head, s.cases_head, s.schemes)
        followed = self._followed
        if followed.key == key and day_of(followed.as_of) == day_of(at):
            self._state = followed
            return followed
        return followed.kept()

    def _key(self) -> publicstate.Key:
        store = self.context.store
        return store.head("records")[0], store.head("cases")[0], publicstate.schemes_fingerprint(self.context)

    def _compute(
        self, at: dt.datetime, key: publicstate.Key, progress: Callable[[int], None] | None = None
    ) -> PublicState:
        """Derive the state at ``at`` (the caller holds ``_computing``); a full scan's is kept
        in the store too. Other schemes in force: the kept scan is of the old ones, so all of it
        is computed again."""
        if self._state is not None and self._state.key[2] != key[2]:
            self.scans.forget()
        full = not self.scans.kept_on(day_of(at))
        started = time.monotonic()
        scan = self.scans.scan(at, progress)
        state = publicstate.derive(self.context, self.casefiles, scan, at, key)
        self._state = state
        if full or self.publishes:
            # the refusals by group as of now: a worker following the snapshot has no groups
            live = transparency.decided(self.context, state.groups, state.report)
            kept = dataclasses.replace(state, report={**state.report, "fairness": live["fairness"]})
            self.context.store.save_snapshot(kept.snapshot())
        if full:
            took = time.monotonic() - started
            log.info("public rescore: %d subjects as of %s in %.1f s", len(scan), at.isoformat(), took)
        return state

    def _rescore_in_background(self) -> None:
        running = self._rescoring
        if running is not None and running.is_alive():
            return

        def run() -> None:
            try:
                with self._computing:
                    self._compute(self.context.clock(), self._key(), _let_requests_run)
            except Exception:  # a failed rescore leaves the kept state served, labelled; logged
                log.exception("rescoring the public pages failed")

        self._rescoring = threading.Thread(target=run, name="public-rescore", daemon=True)
        self._rescoring.start()

    def wait_for_rescore(self, timeout: float | None = None) -> None:
        """Wait for a background rescore to finish (a bench, a test)."""
        running = self._rescoring
        if running is not None:
            running.join(timeout)

    def late_removals(
        self, *, principal: access.Principal, as_of: dt.datetime | None = None
    ) -> list[LateRemoval]:
        """Every list entry removed later than it was due (operators): the removal record came
        after the deadline counted from the removal ground's own date (``ListEntry.days_late``)."""
        access.require(principal.role == "operator", N_("see late removals"))
        if as_of is not None:
            return publicstate.late_removals(publicstate.removals(self.scan(as_of)))
        return self.state().late

    def source_accuracy(self, known_at: dt.datetime | None = None) -> list[SourceAccuracy]:
        """Rate the raters: each source's share of records overturned on objection, its median
        days from objection to correction, and the removals it reported: how many, how many late,
        and the median days late of those (a removal reported after its deadline, SPC Art. 10).
        Public. Now, from the public state; with ``known_at``, as the figures stood then (records,
        case events and removals known by then), computed subject by subject."""
        if known_at is None:
            return self.state().accuracy
        removed = publicstate.removals(self.scans.known_scan(known_at, known_at))
        return publicstate.source_accuracy(self.context, self.casefiles, removed, known_at)

    def known_scan(self, at: dt.datetime, known_at: dt.datetime) -> list[SubjectSummary]:
        """Every subject's summary for valid time ``at`` as known at ``known_at``
        (:meth:`Scans.known_scan`)."""
        return self.scans.known_scan(at, known_at)

    def public_list(
        self, list_id: str, as_of: dt.datetime | None = None, known_at: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """The entries in force on a list, with exactly the fields the list publishes and nothing
        more (the court's rules: name, sex, age, masked ID number or the organisation's code and
        legal representative, obligation, performance, conduct, case number, court). Entries
        suspended by an open objection are not published; a representative listed through an
        organisation appears on the organisation's row, not as a row of their own; a list that
        names only with consent leaves out who has not consented. With ``known_at``, the list as it
        stood at ``as_of`` from what the system had received by then (:meth:`known_scan`): what was
        published then, not what is known now about then. In a stable order: by the published
        fields, as read (name first where a list publishes it)."""
        return [row for _kind, row in self.public_entries(list_id, as_of, known_at)]

    def public_entries(
        self, list_id: str, as_of: dt.datetime | None = None, known_at: dt.datetime | None = None
    ) -> Rows:
        """:meth:`public_list`'s rows, each with the kind of its subject (which is not itself
        published: the portal's download leaves persons out, decision 0039)."""
        return self._entries(list_id, as_of, known_at)[0]

    def _entries(
        self, list_id: str, as_of: dt.datetime | None, known_at: dt.datetime | None
    ) -> tuple[Rows, dt.datetime | None]:
        """A list's rows in the reader's language (``publicwords``: kept in English, worded as
        read), and the moment of the rescore they are as of where not live."""
        registry = self.context.registry
        try:
            registry.list_def(list_id)
        except SchemeError:
            raise NotFound(N_("no list {list_id!r}", list_id=list_id), field="list_id") from None
        if as_of is None and known_at is None:
            state = self.state()
            rows = state.lists.get(list_id, [])
            key = (list_id, i18n.current())
            kept = self._worded.get(key)
            if kept is None or kept[0] is not rows:
                kept = (rows, publicwords.worded_rows(rows, registry))
                self._worded[key] = kept
            return kept[1], state.rescore_of
        at = as_of or self.context.clock()
        scan = self.scan(at) if known_at is None else self.scans.known_scan(at, known_at)
        rows = publicstate.public_rows(self.context, scan, at, only=list_id)[list_id]
        return publicwords.worded_rows(rows, registry), None

    def public_page(
        self,
        list_id: str,
        *,
        search: str = "",
        page: int = 1,
        per_page: int = PER_PAGE,
        as_of: dt.datetime | None = None,
        known_at: dt.datetime | None = None,
    ) -> PublicPage:
        """One page of a public list, after a search by a fragment of any published field (a
        name, a masked ID number's visible digits, an organisation's code, a case number): a
        search never reaches further than what the list publishes, so it cannot confirm a full ID
        number. The portal, the API and the command line page alike; labelled with the rescore it
        is as of where not live."""
        rows, rescore_of = self._entries(list_id, as_of, known_at)
        return dataclasses.replace(search_page(rows, search, page, per_page), rescore_of=rescore_of)

    def list_census(self, as_of: dt.datetime | None = None) -> dict[str, ListCensus]:
        """What each list holds, counted the ways the pages count it, so that they reconcile: the
        rows a list page publishes, the representatives listed through an organisation (on its
        row), the entries suspended while a case is open (not published), and the pending ones
        (notice given, not yet in force). For now from the public state (what the pages served
        now count); for another moment, from a scan at it."""
        if as_of is None:
            return self.state().census
        lists = [f"{s.id}/{lst.id}" for s, lst in self.context.registry.lists()]
        registry = self.context.registry

        def named(list_id: str, s: SubjectSummary) -> bool:
            return consented(registry.list_def(list_id), s.records, as_of).given

        return census(self.scan(as_of), lists, named)

    def pending_subjects(self) -> list[str]:
        """The subjects with a listing noticed but not yet in effect (from the public state)."""
        return self.state().pending

    def public_lookup(self, code: str) -> dict[str, Any]:
        """What the public may see of a subject by code: for a kind the schemes open to lookup
        (organisations by default, as Credit China shows them), its records and current list
        entries; persons' records and scores stay private to them and authorised parties."""
        c = codes.validate(code)
        open_kinds = {k for s in self.context.registry.schemes.values() for k in s.public_lookup}
        if c.kind not in open_kinds:
            raise NotPublic(
                N_("a person's record is private: only the person sees it, by logging in with their key")
                if c.kind == "person"
                else N_("an organisation's record: the schemes in force keep it private")
            )
        view = self.decisions.view(c.value)
        # a look by the public is a look too: audited (anonymously) and shown to the subject
        self.context.store.append_audit(
            [
                {
                    "at": self.context.clock(),
                    "key_id": None,
                    "role": "public",
                    "principal": None,
                    "action": "read",
                    "subject": c.value,
                    "purpose": "public lookup",
                    "answer": "shown",
                    "detail": {},
                }
            ]
        )
        scored = [s for s in self.context.registry.scored() if c.kind in s.public_lookup]
        items = self.context.registry.item_defs
        today = day_of(view.as_of)
        return {
            "code": c.value,
            "kind": c.kind,
            "name": view.subject.name if view.subject else None,
            "records": [
                {
                    "item": r.item,
                    "title": items[r.item].title,
                    "occurred_on": r.occurred_on,
                    "source": r.source,
                }
                for r in view.records
                # an administrative penalty only within its publication period (national measures)
                if not publicised_penalty(items[r.item].area, items[r.item].polarity)
                or today < published_until(r.occurred_on, items[r.item].severity)
            ],
            "lists": [
                {"list": e.qualified_id, "title": e.title, "since": e.since, "planned_end": e.planned_end}
                for e in view.entries
                if e.status == "active"
                and not e.suspended_by
                and consented(self.context.registry.list_def(e.qualified_id), view.records, view.as_of).given
            ],
            "scores": {
                s.id: {"score": view.scores[s.id].score, "grade": view.scores[s.id].grade}
                for s in scored
                if s.id in view.scores  # a model may rate one kind only (the enterprise rating)
            },
        }

    def transparency(
        self, as_of: dt.datetime | None = None, known_at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """The public transparency report: list sizes, measures applied, objections and their
        outcomes, resolution times, source accuracy, and score distributions by district and age
        band (so gaps between groups are visible). For now from the public state, with the
        decisions' figures read now where it is live; ``rescore_of`` names the rescore it is as of
        where it is not (the whole report is then that rescore's). With ``known_at``, the report
        as it stood then (valid time ``as_of``, default ``known_at``): every figure from what the
        system had received or recorded by then (:meth:`known_scan`, as the public lists), none of
        what arrived later; computed for the asking, uncached."""
        if as_of is not None or known_at is not None:
            at = as_of or known_at or self.context.clock()
            scan = self.scan(at) if known_at is None else self.scans.known_scan(at, known_at)
            accuracy = publicstate.source_accuracy(
                self.context, self.casefiles, publicstate.removals(scan), known_at
            )
            report, _groups = transparency.report(
                self.context, self.casefiles, scan, at, [dataclasses.asdict(a) for a in accuracy], known_at
            )
            return {**report, "rescore_of": None}
        state = self.state()
        if state.rescore_of is not None:
            return {**state.report, "known_at": None, "rescore_of": state.rescore_of}
        live = transparency.decided(self.context, state.groups, state.report)
        if not state.groups:  # followed: the rescorer's refusals by group, of its last pass
            live["fairness"] = state.report["fairness"]
        return {**state.report, **live, "as_of": self.context.clock(), "known_at": None, "rescore_of": None}


KEEP_EVERY_S = 0.2
"""Seconds between the rescorer's passes: a write reaches the snapshot the workers follow within
this and one recomputation of the subjects it touched (the 1-second freshness)."""


def _let_requests_run(_subjects: int) -> None:
    """After each subject of a background rescore: give up the interpreter, so a request thread
    waiting on it runs now rather than after the switch interval (5 ms a wait, many waits a
    request); about a microsecond a subject."""
    time.sleep(0)
