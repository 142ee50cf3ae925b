"""Which listings a subject may have reviewed by a person: those the system derived by rule.

The GDPR (DOMAIN.md): a person has the right "not to be subject to a solely automated decision
with significant effects without human review and an explanation" (Art. 22). A listing is such a
decision when no named official decided it: a list by grade (the score crossed a threshold), a
list that counts several records or reads them within a window, a list started by administrative
or commercial records (the agency decided the penalty; the scheme's rule, not a person, decided
the listing). The court's list is the exception: its record is the court's written listing
decision, served on the debtor (SPC provisions, Art. 5), which names the court that made it and is
contested before that court (Art. 12, an objection here). So a list is decided by an official when
it lists on one record of a judicial item and only on such records; every other list is derived
by rule, and each of its current entries may be reviewed.

Why a rule over the list definition and not over the entry: what decided a listing is a property
of the list's rule, so the subject page can offer the review next to each entry, and the service
can refuse it naming why, before any case exists.
"""

from __future__ import annotations

from socialcredit.i18n import N_
from socialcredit.schemes.model import ItemCriteria, ListDef

BASIS = N_(
    "GDPR Art. 22: a person has the right not to be subject to a solely automated decision with "
    "significant effects without human review"
)


def decided_by_official(lst: ListDef, judicial: frozenset[str]) -> bool:
    """Whether every entry of ``lst`` rests on a decision record by a named official: a list by
    items that one record of a judicial item starts, and only such records (``judicial``: the
    judicial item codes, ``dueprocess.restoration.judicial_items``)."""
    crit = lst.criteria
    return (
        isinstance(crit, ItemCriteria)
        and crit.min_records == 1
        and crit.window_days is None
        and all(code in judicial for code in crit.items)
    )


def refusal(lst: ListDef, qualified_id: str, judicial: frozenset[str]) -> str | None:
    """Why an entry of ``lst`` may not be reviewed by this route (None if it may), with the way
    that is open instead."""
    if not decided_by_official(lst, judicial):
        return None
    return N_(
        "{list_id} is listed by a court's written decision (SPC provisions, Art. 5), not "
        "derived by rule: object to it instead, which the court's rules provide (Art. 12); a human "
        "review is for listings no named official decided ({basis})",
        list_id=qualified_id,
        basis=BASIS,
    )
