"""Which records credit restoration may end: one rule, read by every evaluator.

The national credit restoration measures (2023, 2026; DOMAIN.md): "Restoration concerns the
publicity of administrative penalties and similar administrative records; it does not end a
judicial listing such as the court's list, which ends only by that list's own rules." The court's
list ends by its removal grounds (SPC provisions on the list of dishonest judgment debtors,
Art. 10: obligations performed, a settlement performed, the creditor's request, ...) or at the end
of its period, never by an application to the credit office.

So a record may not be restored when its item is in the judicial area, or when its item can put a
subject on a judicial list (a list by items any of whose qualifying items is judicial): restoring
it would end or shorten a court listing without the debt being paid. The rule is about items, so
it is known before any record exists: the service refuses the application naming it
(``service/restorations.py``), the ledger's effective view gives a ``restore`` record of such an
item no effect (``ledger.effective``, for records restored before the rule), the relational
engines likewise (``engines.relational.void_restorations``), the simulator restores only the
others, and the linter flags a judicial list that a restorable item could start
(``schemes.lint``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from socialcredit.i18n import N_
from socialcredit.schemes.model import Item, ListDef, Scheme

RULE = N_(
    "the national credit restoration measures restore administrative records; they do not end a "
    "judicial listing such as the court's list, which ends only by its own removal grounds (SPC "
    "provisions on the list of dishonest judgment debtors, Art. 10: obligations performed, a "
    "settlement performed, the creditor's request, ...)"
)
"""The rule, as quoted in every refusal."""


def judicial_items(schemes: Iterable[Scheme]) -> frozenset[str]:
    """Item codes some scheme places in the judicial area."""
    return frozenset(i.code for s in schemes for i in s.items if i.area == "judicial")


def is_judicial(lst: ListDef, judicial: frozenset[str]) -> bool:
    """Whether a list is a judicial listing: one of its qualifying items is judicial."""
    return any(code in judicial for code in lst.qualifying_items)


def unrestorable(schemes: Iterable[Scheme]) -> Mapping[str, str]:
    """Each item whose records may not be restored, with why (the first reason found)."""
    schemes = list(schemes)
    judicial = judicial_items(schemes)
    out: dict[str, str] = {
        code: N_("{item} is a judicial record (area: judicial)", item=code) for code in judicial
    }
    for s in schemes:
        for lst in s.lists:
            if is_judicial(lst, judicial):
                for code in lst.qualifying_items:
                    out.setdefault(
                        code,
                        N_(
                            "{item} can put a subject on the judicial list {list_id}",
                            item=code,
                            list_id=f"{s.id}/{lst.id}",
                        ),
                    )
    return out


def refusal(item: Item | str, schemes: Iterable[Scheme]) -> str | None:
    """Why a record of ``item`` may not be restored, naming the rule; None if it may be."""
    code = item if isinstance(item, str) else item.code
    why = unrestorable(schemes).get(code)
    return N_("{why}, so it may not be restored: {rule}", why=why, rule=RULE) if why is not None else None
