"""What the schemes loaded together must agree on: every item a list, an enrolment or a consent
names is in its scheme's catalogue, a measure is defined once, and a measure's trigger names a
list that exists or a scored scheme's grades. Kept apart from the loader (which reads and
validates one file at a time, and refuses with :class:`~.loader.SchemeError`): each problem is a
line of ours, marked for translation, the scheme and the thing named."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from socialcredit.i18n import N_
from socialcredit.schemes.model import Scheme


def cross_check(schemes: Mapping[str, Scheme], absent: frozenset[str] = frozenset()) -> Iterable[str]:
    """Every problem of the schemes together, one line each (``absent``: schemes not in force
    that day, whose lists and grades a trigger may name without finding them)."""
    measure_ids: dict[str, str] = {}
    for s in schemes.values():
        own = set(s.item_index)
        if s.enrolment is not None:
            for code in (s.enrolment.item, s.enrolment.withdrawal_item):
                if code is not None and code not in own:
                    yield N_(
                        "{id}: enrolment: item {item!r} is not in this scheme's catalogue", id=s.id, item=code
                    )
        for lst in s.lists:
            for code in [*lst.qualifying_items, *lst.removal_items, *lst.extension_items]:
                if code not in own:
                    yield N_(
                        "{id}: list {list_id}: item {item!r} is not in this scheme's catalogue",
                        id=s.id,
                        list_id=lst.id,
                        item=code,
                    )
            consent = lst.publication_consent
            for code in (consent.item, consent.withdrawal_item) if consent is not None else ():
                if code not in own:
                    yield N_(
                        "{id}: list {list_id}: publication_consent: item {item!r} is not in this "
                        "scheme's catalogue",
                        id=s.id,
                        list_id=lst.id,
                        item=code,
                    )
        for m in s.measures:
            if m.id in measure_ids:
                yield N_(
                    "{id}: measure {measure!r} is also defined by {other}",
                    id=s.id,
                    measure=m.id,
                    other=measure_ids[m.id],
                )
            measure_ids[m.id] = s.id
            for ref in m.trigger.lists:
                sid, _, lid = ref.partition("/")
                target = schemes.get(sid)
                if sid in absent:
                    continue  # not in force that day: the trigger finds no entry
                if target is None or target.list_def(lid) is None:
                    yield N_(
                        "{id}: measure {measure}: trigger list {list_id!r} does not exist",
                        id=s.id,
                        measure=m.id,
                        list_id=ref,
                    )
            if m.trigger.scheme and m.trigger.scheme not in absent:
                target = schemes.get(m.trigger.scheme)
                if target is None or target.model is None:
                    yield N_(
                        "{id}: measure {measure}: scheme {scheme!r} has no scoring model",
                        id=s.id,
                        measure=m.id,
                        scheme=m.trigger.scheme,
                    )
                else:
                    known = {g.grade for g in target.model.grades}
                    for g in m.trigger.grades:
                        if g not in known:
                            yield N_(
                                "{id}: measure {measure}: {grade!r} is not a grade of {scheme}",
                                id=s.id,
                                measure=m.id,
                                grade=g,
                                scheme=target.id,
                            )
