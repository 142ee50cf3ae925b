"""Due process: notice, objections and appeals, restoration, and the deadlines that bind them.

The reported systems failed people exactly here (no notice, nobody to complain to, no way off).
Each case is a sequence of events (filed, decided, corrected, appealed...) from which its state and
deadlines are folded, so nothing is edited in place and every step names who took it and when.
"""

from socialcredit.dueprocess.calendar import WorkingCalendar, add_working_days
from socialcredit.dueprocess.cases import (
    CaseEvent,
    Objection,
    Restoration,
    fold_objection,
    fold_restoration,
    restoration_eligible_from,
)

__all__ = [
    "CaseEvent",
    "Objection",
    "Restoration",
    "WorkingCalendar",
    "add_working_days",
    "fold_objection",
    "fold_restoration",
    "restoration_eligible_from",
]
