"""What every application service shares: one installation's store, the schemes in force, its
clock and holiday calendar, and what is kept across calls (the view cache, the audit group
commit, the tables computed once per registry).

Why one object: the services (``records.py``, ``decisions.py``, ``casework.py``...) are small
classes, each over this context and the few other services it names in its constructor. What
they share lives here, once, so a registry replaced (``context.registry = ...``) or a view
dropped is seen by all of them at once, and none reaches another through a superclass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from socialcredit import access
from socialcredit.dueprocess import restoration
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import Measure
from socialcredit.service.views import ViewCache
from socialcredit.store import Store
from socialcredit.store.auditwriter import AuditWriter
from socialcredit.store.markers import HeadReader
from socialcredit.store.schemeversions import SchemeVersion


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def operator(by: str | None = None) -> access.Principal:
    """The principal of a local command-line user, who owns the installation. ``by`` names the
    person acting, as an operator key names its holder: a case decision from the command line
    is recorded against that person (without it, against ``local``). The services read every
    case as this principal where a rule needs them all (a duplicate objection, the scans)."""
    return access.Principal("local", "operator", access.holder_name(by) if by else None, "command line")


class Context:
    """One installation: a store, the schemes in force (``registry``, which may be replaced), a
    clock and a holiday calendar, with the caches every service reads through."""

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
        # Kept current with the store (service/views.py); decisions and views for "now" use it.
        self.views = ViewCache(HeadReader(store), store.subjects_touched_since)
        # Group commit of audit entries (store/auditwriter.py): one transaction for all waiting.
        self.auditor = AuditWriter(store)
        # (registry, its table) pairs: recomputed when the registry object is replaced.
        self._measures: tuple[Registry, dict[str, Measure]] | None = None
        self._unrestorable: tuple[Registry, frozenset[str]] | None = None
        self._hashes: tuple[Registry, dict[str, str]] | None = None

    def measure(self, measure_id: str) -> Measure | None:
        """The registry's measure by id, from a table built once per registry object (the
        registry's own lookup builds a dict of every measure on each call)."""
        table = self._measures
        if table is None or table[0] is not self.registry:
            table = self.registry_replaced()
        return table[1].get(measure_id)

    def registry_replaced(self) -> tuple[Registry, dict[str, Measure]]:
        """Forget everything computed under another registry (cached views and decisions are
        scores, lists and measures of the schemes in force); the measures table in force."""
        table = self._measures
        if table is None or table[0] is not self.registry:
            if table is not None:
                self.views.invalidate()
            table = self._measures = (self.registry, self.registry.measures())
        return table

    def unrestorable_items(self) -> frozenset[str]:
        """The items whose records credit restoration may not end under the schemes in force
        (``dueprocess.restoration``), computed once per registry."""
        cached = self._unrestorable
        if cached is None or cached[0] is not self.registry:
            items = frozenset(restoration.unrestorable(self.registry.schemes.values()))
            cached = self._unrestorable = (self.registry, items)
        return cached[1]

    def schemes_kept(self) -> bool:
        """Whether the schemes in force are kept already (:meth:`scheme_hashes` does no I/O)."""
        cached = self._hashes
        return cached is not None and cached[0] is self.registry

    def scheme_hashes(self, registry: Registry | None = None) -> dict[str, str]:
        """The content hash of each scheme file in force (in ``registry``: the versions in force
        on one day, ``Registry.at``), by scheme id (a decision's receipt names them). Every
        version is kept in the store once per registry, when first asked: before any receipt
        names a version, that version is kept. (Kept on first use, not when the system opens:
        opening writes nothing, so ``restore`` still finds an empty database.)"""
        cached = self._hashes
        if cached is None or cached[0] is not self.registry:
            self.keep_scheme_versions()
            hashes = {s.id: s.content_hash for s in self.registry.schemes.values()}
            cached = self._hashes = (self.registry, hashes)
        if registry is None or registry is self.registry:
            return cached[1]
        return {s.id: s.content_hash for s in registry.schemes.values()}

    def keep_scheme_versions(self) -> None:
        """Keep every version of every scheme file loaded, by content hash
        (``store/schemeversions.py``), so a receipt naming one can be computed again after the
        scheme is revised."""
        now = self.clock()
        self.store.keep_scheme_versions(
            SchemeVersion(
                s.content_hash, s.id, s.version, s.effective_from, now, s.text or s.model_dump_json()
            )
            for s in self.registry.kept
        )

    def audit(self, principal: access.Principal, action: str, **fields: Any) -> None:
        """Append one audit entry now, through the group commit (returns once committed)."""
        self.auditor.append(
            {
                "at": self.clock(),
                "key_id": principal.key_id,
                "role": principal.role,
                "principal": principal.principal,
                "action": action,
                **fields,
            }
        )
