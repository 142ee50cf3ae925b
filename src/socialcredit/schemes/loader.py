"""Load scheme files and gather them into a :class:`Registry` that checks references across them.

Why a registry: measures of the joint-punishment memorandum are triggered by lists that other
schemes define (the court's list), exactly as one memorandum lets one list trigger measures
everywhere; references are resolved once at load time so a bad reference fails loudly.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from socialcredit.errors import Refused, validation_message
from socialcredit.i18n import N_, Lines
from socialcredit.schemes.crosscheck import cross_check
from socialcredit.schemes.model import Item, ListDef, Measure, Scheme

MAX_SCHEME_BYTES = 2_000_000


class SchemeError(Refused):
    """A scheme file is malformed or refers to something that does not exist."""


class _Invalid(str):
    """One validation error of a scheme file: ``str`` the file, the field's path and pydantic's
    English; worded for a reader of another language as the API words it (errors.py)."""

    head: str
    error: Any

    def __new__(cls, source: str, where: str, error: Any) -> _Invalid:
        self = super().__new__(cls, f"{source}: {where}: {error['msg']}")
        self.head, self.error = f"{source}: {where}", error
        return self

    def worded(self, locale: str) -> str:
        return f"{self.head}: {validation_message(self.error, locale)}"


def _format_validation(source: str, exc: ValidationError) -> Lines:
    return Lines(
        [_Invalid(source, ".".join(str(p) for p in e["loc"]) or "(top level)", e) for e in exc.errors()]
    )


def _expanded_size(data: Any, limit: int) -> int:
    """Nodes in ``data`` with YAML aliases expanded, counting stops past ``limit``.

    Aliases make the loaded value a graph whose expansion can be exponential in the text's size
    ("billion laughs"); validation would walk every expanded node. Sizes are memoised per object,
    so measuring costs one visit per distinct node.
    """
    memo: dict[int, int] = {}

    def size(x: Any, depth: int) -> int:
        if depth > 200:
            raise SchemeError(N_("nested more than 200 levels deep"))
        if not isinstance(x, dict | list):
            return 1
        if id(x) in memo:
            return memo[id(x)]
        children = [*x.keys(), *x.values()] if isinstance(x, dict) else x
        total = 1
        for c in children:
            total += size(c, depth + 1)
            if total > limit:
                break
        memo[id(x)] = total
        return total

    return size(data, 0)


MAX_SCHEME_NODES = 1_000_000


def parse_scheme(text: str, source: str = "<scheme>") -> Scheme:
    """Validate scheme YAML text; errors name the file and the field path."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SCHEME_BYTES:
        raise SchemeError(N_("{source}: larger than {most} bytes", source=source, most=MAX_SCHEME_BYTES))
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = (
            N_(" at line {line}, column {column}", line=mark.line + 1, column=mark.column + 1) if mark else ""
        )
        problem = getattr(exc, "problem", None) or str(exc)  # PyYAML's English
        raise SchemeError(
            N_("{source}: not valid YAML{at}: {problem}", source=source, at=at, problem=problem)
        ) from None
    except RecursionError:
        raise SchemeError(N_("{source}: not valid YAML: nested too deeply", source=source)) from None
    except ValueError as exc:
        # PyYAML builds some scalars with Python constructors that raise ValueError themselves:
        # an impossible date ("2001-02-30"), an integer of more than 4300 digits.
        raise SchemeError(
            N_("{source}: not valid YAML: bad value: {problem}", source=source, problem=str(exc))
        ) from None
    try:
        nodes = _expanded_size(data, MAX_SCHEME_NODES)
    except SchemeError as exc:
        raise SchemeError(N_("{source}: {problem}", source=source, problem=exc.message)) from None
    if nodes > MAX_SCHEME_NODES:
        raise SchemeError(
            N_(
                "{source}: more than {most} values once aliases are expanded",
                source=source,
                most=MAX_SCHEME_NODES,
            )
        )
    if not isinstance(data, dict):
        raise SchemeError(
            N_(
                "{source}: a scheme must be a mapping of keys, got {type}",
                source=source,
                type=type(data).__name__,
            )
        )
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(_format_validation(source, exc)) from None
    scheme._text = text
    return scheme


def load_scheme(path: str | Path) -> Scheme:
    """Read and validate one scheme file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemeError(N_("{source}: no such file", source=str(p))) from None
    except UnicodeDecodeError:
        raise SchemeError(N_("{source}: not UTF-8 text", source=str(p))) from None
    except OSError as exc:
        raise SchemeError(
            N_("{source}: cannot read ({problem})", source=str(p), problem=exc.strerror)
        ) from None
    return parse_scheme(text, str(p))


@dataclass(frozen=True)
class VersionRow:
    """One version of a scheme as shown to everyone (``Registry.version_rows``)."""

    version: str
    effective_from: dt.date | None
    applies_from: dt.date | None
    """The first day it applies (a correction: its predecessor's); ``None``: from the beginning."""
    status: str
    """``in force``, ``earlier``, ``later`` or ``replaced`` (by a correction: never in force)."""
    origin: str


Timeline = tuple[tuple[dt.date | None, Scheme], ...]
"""The versions of one scheme in force over time: each with the first day it applies (``None``:
from the beginning), earliest first; a version applies until the next one's day."""


@dataclass(frozen=True)
class Registry:
    """The schemes in force, with references across them resolved and checked.

    ``schemes`` holds the newest version of each scheme (the rules as last written: what ingest
    validates records against and the linter judges); an answer for a valid time asks
    :meth:`at` for the versions in force that day (decision 0038)."""

    schemes: Mapping[str, Scheme]
    origins: Mapping[str, str] = field(default_factory=dict)
    """The file each scheme was loaded from, by scheme id (for messages that name the file), and
    by ``id@version`` for each version."""
    sources_by_item: Mapping[str, frozenset[str]] = field(init=False)
    kinds_by_item: Mapping[str, frozenset[str]] = field(init=False)
    item_defs: Mapping[str, Item] = field(init=False)
    stated_details: Mapping[str, tuple[tuple[str, int, int, str], ...]] = field(init=False)
    """Items whose records must state a whole number in their details, with the field, its
    least and greatest value and the list that reads it (an extension decision's years)."""
    previous: Mapping[str, Scheme] = field(default_factory=dict)
    """The version a revised scheme replaces, by scheme id, where it is at hand: what its entries
    were is shown beside those the correction changed (``lists.entries_for``, decision 0028)."""
    timeline: Mapping[str, Timeline] = field(default_factory=dict)
    """Each scheme's versions in force over time (default: ``schemes``, each from its
    ``effective_from``, a correction from the beginning); :meth:`of` builds it from every file."""
    kept: tuple[Scheme, ...] = ()
    """Every version loaded, in force at some time or replaced by a correction: what
    ``scheme_versions`` keeps so a receipt naming one is computed again."""
    absent: frozenset[str] = frozenset()
    """Schemes not in force on the day of a registry :meth:`at` gave: references to them are
    left unresolved (a measure triggered by their list or grade finds nothing)."""
    _days: dict[dt.date, Registry] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = list(cross_check(self.schemes, self.absent))
        if problems:
            raise SchemeError(Lines(problems))
        if not self.timeline:
            line = {sid: ((_start(s, {}), s),) for sid, s in self.schemes.items()}
            object.__setattr__(self, "timeline", line)
        if not self.kept:
            object.__setattr__(self, "kept", tuple(self.schemes.values()))
        # indexes computed once: validation looks these up for every submitted row
        sources: dict[str, set[str]] = {}
        kinds: dict[str, set[str]] = {}
        defs: dict[str, Item] = {}
        for s in self.schemes.values():
            for it in s.items:
                sources.setdefault(it.code, set()).update(it.sources)
                kinds.setdefault(it.code, set()).update(it.subjects)
                defs.setdefault(it.code, it)
        object.__setattr__(self, "sources_by_item", {k: frozenset(v) for k, v in sources.items()})
        object.__setattr__(self, "kinds_by_item", {k: frozenset(v) for k, v in kinds.items()})
        object.__setattr__(self, "item_defs", defs)
        stated: dict[str, list[tuple[str, int, int, str]]] = {}
        for s, lst in self.lists():
            for track in lst.tracks:
                ext = track.extension
                if ext is None:
                    continue
                for code in ext.on_items:
                    rule = (ext.years_field, ext.min_years, ext.max_years, f"{s.id}/{lst.id}")
                    stated.setdefault(code, []).append(rule)
        object.__setattr__(self, "stated_details", {k: tuple(v) for k, v in stated.items()})

    @classmethod
    def of(
        cls,
        schemes: Iterable[Scheme],
        origins: Mapping[str, str] | None = None,
        previous: Iterable[Scheme] = (),
    ) -> Registry:
        """A registry of these schemes. Several versions of one id may be given (``origins``
        then names each file by ``id@version``): each applies from its ``effective_from`` until
        the next, and a version whose revision says ``re-evaluated`` replaces the version it
        names for every day (decision 0038). ``previous``: replaced versions kept beside them,
        never in force, read for what a correction changed and for the day it applies from."""
        names = dict(origins or {})
        versions: dict[str, list[Scheme]] = {}
        for s in schemes:
            versions.setdefault(s.id, []).append(s)
        held = {(p.id, p.version): p for p in previous}
        line: dict[str, Timeline] = {}
        newest: dict[str, Scheme] = {}
        kept: dict[str, Scheme] = {}
        for sid, vs in versions.items():
            line[sid] = _versions_in_force(sid, vs, held, names)
            newest[sid] = line[sid][-1][1]
            for v in vs:
                names.setdefault(f"{sid}@{v.version}", names.get(sid, f"scheme {sid}"))
                kept[v.content_hash] = v
            names[sid] = names[f"{sid}@{newest[sid].version}"]
        prior = {
            sid: p
            for sid, s in newest.items()
            if (rev := s.revision) is not None
            and (p := held.get((sid, rev.replaces))) is not None
            and p is not s
        }
        return cls(newest, names, prior, line, tuple(kept.values()))

    def at(self, day: dt.date) -> Registry:
        """The versions in force on ``day`` (a day in China, ``rules.days.day_of``): of each
        scheme the one with the latest start on or before it; a scheme whose first version
        applies later is not in force (``absent``). The same registry when nothing differs."""
        found = self._days.get(day)
        if found is not None:
            return found
        chosen: dict[str, Scheme] = {}
        for sid, line in self.timeline.items():
            for start, s in line:
                if start is None or start <= day:
                    chosen[sid] = s
        if chosen.keys() == self.schemes.keys() and all(chosen[k] is self.schemes[k] for k in chosen):
            found = self
        else:
            prior = {
                sid: p
                for sid, s in chosen.items()
                if (rev := s.revision) is not None
                for p in self.kept + tuple(self.previous.values())
                if p.id == sid and p.version == rev.replaces
            }
            names = {**self.origins, **{sid: self.origin(f"{sid}@{s.version}") for sid, s in chosen.items()}}
            absent = frozenset(self.timeline) - chosen.keys()
            found = Registry(chosen, names, prior, self.timeline, self.kept, absent)
        self._days[day] = found
        return found

    def versions(self, scheme_id: str) -> Timeline:
        """The versions of a scheme in force over time, earliest first."""
        return self.timeline.get(scheme_id, ())

    def version_rows(self, scheme_id: str, day: dt.date) -> list[VersionRow]:
        """Every version of a scheme as ``GET /schemes``, ``socialcredit schemes`` and the portal
        show it on ``day``: the day each applies from, and whether it is in force then, was
        earlier, comes later or was replaced by a correction (kept for receipts only)."""
        line = self.versions(scheme_id)
        current = self.at(day).schemes.get(scheme_id)
        rows = []
        for start, s in line:
            status = (
                "in force" if s is current else "later" if start is not None and start > day else "earlier"
            )
            rows.append(
                VersionRow(
                    s.version, s.effective_from, start, status, self.origin(f"{scheme_id}@{s.version}")
                )
            )
        live = {s.version for _, s in line}
        gone = {
            p.version: p
            for p in (*self.kept, *self.previous.values())
            if p.id == scheme_id and p.version not in live
        }
        rows += [
            VersionRow(p.version, p.effective_from, None, "replaced", self.origin(f"{scheme_id}@{p.version}"))
            for p in gone.values()
        ]
        return rows

    def in_force(self, day: dt.date) -> dict[str, str]:
        """The version of each scheme in force on ``day``, by scheme id."""
        return {sid: s.version for sid, s in self.at(day).schemes.items()}

    def origin(self, scheme_id: str) -> str:
        """The file a scheme was loaded from, or its id if not known."""
        return self.origins.get(scheme_id, f"scheme {scheme_id}")

    def scheme(self, scheme_id: str) -> Scheme:
        try:
            return self.schemes[scheme_id]
        except KeyError:
            raise SchemeError(
                N_("no scheme {id!r} (have: {have})", id=scheme_id, have=", ".join(self.schemes))
            ) from None

    def list_def(self, qualified: str) -> ListDef:
        """A list by its 'scheme/list' id."""
        scheme_id, _, list_id = qualified.partition("/")
        found = self.scheme(scheme_id).list_def(list_id)
        if found is None:
            raise SchemeError(N_("no list {list_id!r}", list_id=qualified))
        return found

    def lists(self) -> list[tuple[Scheme, ListDef]]:
        return [(s, lst) for s in self.schemes.values() for lst in s.lists]

    def measures(self) -> dict[str, Measure]:
        """All measures by id (ids are unique across the registry)."""
        return {m.id: m for s in self.schemes.values() for m in s.measures}

    def measure(self, measure_id: str) -> Measure | None:
        return self.measures().get(measure_id)

    def items(self) -> Mapping[str, Item]:
        """One definition per item code (the first scheme that catalogues it)."""
        return self.item_defs

    def scored(self) -> list[Scheme]:
        """The schemes that have a scoring model."""
        return [s for s in self.schemes.values() if s.model is not None]


def _start(s: Scheme, held: Mapping[tuple[str, str], Scheme]) -> dt.date | None:
    """The first day a version applies: its ``effective_from``; a correction (``re-evaluated``)
    applies from the start of the version it replaces, or from the beginning where that one is
    not at hand: the rules always applied."""
    seen = {s.version}
    while (rev := s.revision) is not None and rev.earlier_listings == "re-evaluated":
        replaced = held.get((s.id, rev.replaces))
        if replaced is None or replaced.version in seen:
            return None
        seen.add(replaced.version)
        s = replaced  # a correction of a correction: back to the first version corrected
    return s.effective_from


def _versions_in_force(
    sid: str, vs: list[Scheme], held: dict[tuple[str, str], Scheme], names: Mapping[str, str]
) -> Timeline:
    """One scheme's timeline from its files: each version once, on a day of its own; a version a
    loaded correction replaces is kept (``held``) but never in force."""

    def name(s: Scheme) -> str:
        return names.get(f"{sid}@{s.version}", names.get(sid, f"scheme {sid}"))

    by_version: dict[str, Scheme] = {}
    by_day: dict[dt.date | None, Scheme] = {}
    for v in vs:
        if v.version in by_version:
            raise SchemeError(
                N_(
                    "scheme {id!r} version {version} is loaded twice: {first}, {second}",
                    id=sid,
                    version=v.version,
                    first=name(by_version[v.version]),
                    second=name(v),
                )
            )
        by_version[v.version] = v
        if v.effective_from in by_day:
            other = by_day[v.effective_from]
            raise SchemeError(
                N_(
                    "scheme {id!r}: versions {version} ({file}) and {other} ({other_file}) are both "
                    "effective from {day}: each version needs an effective_from of its own",
                    id=sid,
                    version=other.version,
                    file=name(other),
                    other=v.version,
                    other_file=name(v),
                    day=v.effective_from or N_("the beginning"),
                )
            )
        by_day[v.effective_from] = v
    replaced = {
        rev.replaces
        for v in vs
        if (rev := v.revision) is not None
        and rev.earlier_listings == "re-evaluated"
        and rev.replaces in by_version
    }
    for r in replaced:
        held[(sid, r)] = by_version[r]
    line = sorted(
        ((_start(v, held), v) for v in vs if v.version not in replaced),
        key=lambda p: (p[0] is not None, p[0] or dt.date.min),
    )
    for (_, before), (_, after) in itertools.pairwise(line):
        _check_change(sid, before, after, name)
    if line and (rev := line[0][1].revision) is not None and rev.earlier_listings == "stay-ended":
        first = line[0][1]
        raise SchemeError(
            N_(
                "scheme {id!r}: version {version} ({file}) keeps listings that ended under version "
                "{replaces} (stay-ended), which is not loaded: its rules govern the days before the "
                "change, so its file must be in the scheme folder too",
                id=sid,
                version=first.version,
                file=name(first),
                replaces=rev.replaces,
            )
        )
    starts = [d for d, _ in line]
    if len(set(starts)) != len(starts):
        clash = [f"{v.version} ({name(v)})" for d, v in line if starts.count(d) > 1]
        raise SchemeError(
            N_(
                "scheme {id!r}: versions {versions} would apply from the same day",
                id=sid,
                versions=", ".join(clash),
            )
        )
    return tuple(line)


def _check_change(sid: str, before: Scheme, after: Scheme, name: Callable[[Scheme], str]) -> None:
    """Refuse a change of version that no evaluator could walk. A change of a list's rules says
    what happens to listings made before it (a revision: re-evaluated, or stay-ended); a
    stay-ended revision follows the version it replaces, keeps each of its lists (their entries
    stand for the days it was in force) and changes no list by grade (a grade list follows a
    score's whole history, which is not cut in segments: decision 0051)."""
    old_lists = {x.id: x.model_dump() for x in before.lists}
    new_lists = {x.id: x.model_dump() for x in after.lists}
    rev = after.revision
    if rev is None and old_lists != new_lists:
        raise SchemeError(
            N_(
                "scheme {id!r}: version {version} ({file}) changes its lists from version {before} "
                "({before_file}) without a revision: a change of a list's rules says whether listings "
                "made before it are re-evaluated (a correction of a modelling error) or stay ended "
                "(revision: earlier_listings)",
                id=sid,
                version=after.version,
                file=name(after),
                before=before.version,
                before_file=name(before),
            )
        )
    if rev is None or rev.earlier_listings != "stay-ended":
        return
    said = {"id": sid, "version": after.version, "file": name(after), "before": before.version}
    if rev.replaces != before.version:
        raise SchemeError(
            N_(
                "scheme {id!r}: version {version} ({file}) keeps listings that ended under version "
                "{replaces}, but the version before it is {before} ({before_file}): stay-ended "
                "replaces the version in force until it",
                replaces=rev.replaces,
                before_file=name(before),
                **said,
            )
        )
    dropped = sorted(old_lists.keys() - new_lists.keys())
    if dropped:
        raise SchemeError(
            N_(
                "scheme {id!r}: version {version} ({file}) keeps listings that ended (stay-ended) but "
                "drops list {lists} of version {before}: its entries stand for the days that version "
                "was in force, so the list is kept",
                lists=", ".join(dropped),
                **said,
            )
        )
    graded = sorted(
        x.id for x in after.lists if x.criteria.by == "grade" and old_lists.get(x.id) != x.model_dump()
    )
    if graded:
        raise SchemeError(
            N_(
                "scheme {id!r}: version {version} ({file}) keeps listings that ended (stay-ended) and "
                "changes list {lists}, a list by grade: a grade list follows the score's whole history "
                "under one day's rules and is not cut where the rules changed (decision 0051); write "
                "the change as a correction (re-evaluated)",
                lists=", ".join(graded),
                **said,
            )
        )


SHIPPED = "socialcredit.schemes.shipped"
PREVIOUS = "previous"
"""Where replaced versions of shipped schemes are kept, beside them (and beside an operator's own,
``$SOCIALCREDIT_HOME/schemes/previous``): never in force, read only to show subjects what a
correction changed (``Registry.previous``)."""


def shipped_names() -> list[str]:
    """Ids of the scheme files shipped with the package."""
    return sorted(
        p.name.removesuffix(".yaml") for p in resources.files(SHIPPED).iterdir() if p.name.endswith(".yaml")
    )


@cache
def shipped_scheme(name: str) -> Scheme:
    """A shipped scheme by id."""
    res = resources.files(SHIPPED).joinpath(f"{name}.yaml")
    if not res.is_file():
        raise SchemeError(
            N_("no shipped scheme {id!r} (have: {have})", id=name, have=", ".join(shipped_names()))
        )
    return parse_scheme(res.read_text(encoding="utf-8"), f"{name}.yaml")


@cache
def shipped_previous() -> list[Scheme]:
    """The replaced versions of shipped schemes that are kept (``shipped/previous/*.yaml``)."""
    folder = resources.files(SHIPPED).joinpath(PREVIOUS)
    if not folder.is_dir():
        return []
    return [
        parse_scheme(p.read_text(encoding="utf-8"), f"{PREVIOUS}/{p.name}")
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".yaml")
    ]


@cache
def shipped_registry() -> Registry:
    """Every shipped scheme, cross-checked, with the replaced versions kept."""
    names = shipped_names()
    return Registry.of(
        (shipped_scheme(n) for n in names),
        {shipped_scheme(n).id: shipped_origin(n) for n in names},
        shipped_previous(),
    )


def shipped_origin(name: str) -> str:
    """How messages name a shipped scheme's file."""
    return f"{name}.yaml (shipped)"
