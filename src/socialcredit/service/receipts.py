"""A past decision reproduced from its receipt (issue 17.6).

Why: a relying party that refused someone, or the person refused, must be able to ask later
"what was the answer then, and on what?" and get the same answer, exactly, even after
corrections arrived and schemes were revised. The receipt in the decision's audit entry names
the chain positions and the scheme files (by content hash); the answer is computed again from
exactly those entries under exactly those files (``scheme_versions``). Beside it, the answer for
the same valid time as known now: where the two differ, both are shown, with a sentence saying
so ("answered DENY on 2025-07-01; a correction on 2025-09-01 makes it ALLOW").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from socialcredit import access
from socialcredit.decisions import LOUD, Decision
from socialcredit.errors import NotFound, Refused
from socialcredit.i18n import N_
from socialcredit.knowledge import Known, Receipt
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import Registry, parse_scheme
from socialcredit.schemes.model import Scheme
from socialcredit.service.context import Context
from socialcredit.service.decisions import Decisions
from socialcredit.shredding import ERASED_CODE, Erasure
from socialcredit.store.schemeversions import SchemeVersion

_ID = re.compile(r"^dec-[0-9a-f]{16}$")


@dataclass(frozen=True)
class Reproduction:
    """A decision as answered (``answered``: its audit entry), as computed again from its
    receipt (``again``), and for the same valid time as known now (``current``); ``changed_at``:
    when the first record about the subject received after the receipt arrived, where the
    answer now differs."""

    receipt: Receipt
    answered: dict[str, Any]
    again: Decision
    current: Decision
    changed_at: dt.datetime | None = None
    erased: Erasure | None = None
    """The latest erasure of records the decision rested on (issue 21 point 4): the answer then
    stands as the receipt keeps it, and ``again`` (from what is left) cannot be compared."""

    @property
    def exact(self) -> bool:
        """Whether the answer computed again is the answer given (it must be, unless records it
        rested on were erased since: then it is not computed again, and this is False)."""
        if self.erased is not None:
            return False
        reasons = [r.text for r in self.again.reasons]
        given = self.answered["answer"], list(self.answered["detail"]["reasons"])
        return (self.again.answer, reasons) == given

    @property
    def changed(self) -> str | None:
        """The sentence saying how the answer as known now differs, or ``None``."""
        if self.current.answer == self.again.answer:
            return None
        if self.changed_at is not None:
            cause = N_("a correction on {day}", day=day_of(self.changed_at).isoformat())
        else:
            cause = N_("a revision of the schemes")
        return N_(
            "answered {answer} on {day}; {cause} makes it {now}",
            answer=LOUD[self.again.answer],
            day=day_of(self.receipt.known_at).isoformat(),
            cause=cause,
            now=LOUD[self.current.answer],
        )


class Receipts:
    """Reproduce decisions from their receipts."""

    def __init__(self, context: Context, decisions: Decisions) -> None:
        self.context = context
        self.decisions = decisions

    def reproduce(self, decision_id: str, principal: access.Principal) -> Reproduction:
        """The decision ``decision_id`` as answered, computed again from its receipt, and as
        the same question would be answered now. Its asker, operators and auditors may ask."""
        if not isinstance(decision_id, str) or not _ID.match(decision_id):
            raise Refused(N_("expected 'dec-' and 16 hexadecimal digits"), field="decision_id")
        entry = self.context.store.decision_entry(decision_id)
        if entry is None:
            raise NotFound(N_("no decision {decision_id}", decision_id=decision_id), field="decision_id")
        access.require(
            access.may_read_audit(principal) or entry["key_id"] == principal.key_id, N_("read this decision")
        )
        receipt = Receipt.from_json(entry["detail"]["receipt"])
        registry = self.registry_of(receipt)
        if entry["subject"] == ERASED_CODE:
            return self._erased(entry, receipt, registry)
        again, organisations = self.decisions.recompute_with(
            entry["subject"], entry["measure"], receipt.as_of, receipt.known(), registry
        )
        now = self.context.clock()
        heads = self.context.store.heads()
        known = Known(None, heads["records"][0], heads.get("registry", (0, ""))[0], heads["cases"][0])
        current = self.decisions.recompute(
            entry["subject"], entry["measure"], receipt.as_of, known, self.context.registry
        )
        assert known.records is not None and known.registry is not None and known.cases is not None
        hashes = self.context.scheme_hashes(self.context.registry.at(day_of(receipt.as_of)))
        positions = (known.records, known.registry, known.cases)
        current = _with(current, Receipt("", receipt.as_of, now, *positions, hashes))
        changed = self.first_change(entry["subject"], receipt) if current.answer != again.answer else None
        # the person's records, and those of the organisations the answer included them for
        # as legal representative: an erasure of either changes what it rested on
        gone = [
            *self.context.store.erasures_within(
                entry["subject"], receipt.records, pseudonym=entry.get("pseudonym")
            ),
            *(e for o in organisations for e in self.context.store.erasures_within(o, receipt.records)),
        ]
        gone.sort(key=lambda e: (e.at, e.klass))
        erased = next((e for e in reversed(gone) if e.at >= receipt.known_at), None)
        return Reproduction(receipt, dict(entry), again, current, changed, erased)

    def _erased(self, entry: dict[str, Any], receipt: Receipt, registry: Registry) -> Reproduction:
        """A decision about a subject whose code was erased with its last record key (decision
        0060): nothing is left to compute it again from, nor to ask about now, so it stands as
        the receipt keeps it (issue 21 point 4), with the erasure it rested on."""
        measure = registry.measure(entry["measure"])
        kind = measure.kind if measure is not None else ""
        answered = Decision(
            ERASED_CODE, entry["measure"], kind, entry["answer"] == "allow", entry["at"], (), receipt
        )
        gone = self.context.store.erasures_within(ERASED_CODE, receipt.records, pseudonym=entry["pseudonym"])
        return Reproduction(receipt, dict(entry), answered, answered, None, gone[-1] if gone else None)

    def first_change(self, subject: str, receipt: Receipt) -> dt.datetime | None:
        """When the first record about ``subject`` after the receipt's positions was received
        (the correction that changed the answer, most often), or ``None``."""
        later = [
            r.received_at
            for r in self.context.store.records_for(subject)
            if r.seq > receipt.records and r.received_at is not None
        ]
        return min(later) if later else None

    def registry_of(self, receipt: Receipt) -> Registry:
        """The schemes the receipt names: those in force if they are the same files, else the
        kept versions by content hash."""
        if receipt.schemes == self.context.scheme_hashes(self.context.registry.at(day_of(receipt.as_of))):
            return self.context.registry  # the same versions are in force that day
        kept = {v.content_hash: v for v in self.context.store.scheme_versions(receipt.schemes.values())}
        missing = sorted(sid for sid, h in receipt.schemes.items() if h not in kept)
        if missing:
            raise NotFound(
                N_(
                    "the scheme versions this decision used are not kept: {versions}",
                    versions=", ".join(missing),
                ),
                field="decision_id",
            )
        named = [
            parse_scheme(kept[h].yaml, f"{sid} version {kept[h].version} ({h[:12]})")
            for sid, h in receipt.schemes.items()
        ]
        return Registry.of([*named, *self._stayed(named, receipt.as_of)])

    def _stayed(self, named: list[Scheme], as_of: dt.datetime) -> list[Scheme]:
        """The earlier versions whose listings a named version keeps (``stay-ended``, decision
        0051): their rules govern the days before it, so the answer is reproduced with them (of
        two kept files of one version, the one put in force last before ``as_of``)."""
        out: list[Scheme] = []
        every: list[SchemeVersion] | None = None
        todo = list(named)
        while todo:
            s = todo.pop()
            rev = s.revision
            if rev is None or rev.earlier_listings != "stay-ended":
                continue
            every = every if every is not None else self.context.store.scheme_versions()
            found = sorted(
                (v for v in every if (v.scheme_id, v.version) == (s.id, rev.replaces)),
                key=lambda v: (v.first_in_force_at <= as_of, v.first_in_force_at),
            )
            if found:
                v = found[-1]
                earlier = parse_scheme(v.yaml, f"{s.id} version {v.version} ({v.content_hash[:12]})")
                out.append(earlier)
                todo.append(earlier)
        return out


def _with(d: Decision, receipt: Receipt) -> Decision:
    return Decision(d.subject, d.measure, d.measure_kind, d.allowed, d.at, d.reasons, receipt)
