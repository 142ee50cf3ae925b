"""A subject's prepared decisions as the text kept in ``decision_state`` (``store/decisionstate.py``),
and the digest of what they were computed under.

Why its own codec, not pickle: the rows outlive a process and are read by every worker, so the
text is plain JSON of plain values, read back into the very :class:`Decision` and
:class:`Reason` values that were written (``tests/test_decision_state.py`` holds every demo
resident's decisions equal through it), each reason's texts as their message templates, values
and scheme titles (:func:`held`, decision 0096), so a decision served from a state is worded in
the asker's language as a fresh one is, not in the English it was built in. Why a basis
digest: a state computed under other scheme files or another holiday calendar must not answer,
yet needs no migration either: a row whose ``basis`` differs is simply due.

Why compressed against a fixed dictionary (decision 0089): a state's lines are about 13 KB, and
almost all of it is the same in every subject's state (each measure's "nothing restricts" line,
its legal basis, how to resolve it), so zlib primed with those common lines
(``statedicts/2.txt``) writes a median state in about 700 bytes, base64 included (18 times
smaller), and a question reads a row that fits in its page, for about 25 µs more CPU to inflate.
The dictionary's number leads the payload (``z2:``): a dictionary is never changed once shipped,
a new one gets a new number, and a payload without the mark is the plain lines written before,
read as they are. So a new envelope needs no rebuild; ``FORMAT`` (the lines' meaning) is what
makes old rows due.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from socialcredit.decisions import Decision, Reason
from socialcredit.dueprocess.calendar import worked
from socialcredit.errors import Unavailable
from socialcredit.i18n import N_, Lines, Text
from socialcredit.schemes.loader import Registry
from socialcredit.scoring.result import Title

FORMAT = "3"
"""The lines' format: part of the basis, so a new format makes every old row due. The envelope
(plain or compressed, and with which dictionary) is told by the payload itself, not here.
Format 3 (decision 0096) keeps each reason's texts as their templates and values, so a state
words in the asker's language; format 2's rows held the English only and are due (they still
read: a text stored as a string reads as that string)."""

DICTIONARY = "2"
"""The dictionary new payloads are compressed with (``statedicts/<n>.txt``)."""

MARK = "z"
"""A compressed payload starts ``z<dictionary>:``; a plain one (the lines) starts with ``[``."""

Prepared = tuple[Decision, dict[str, Any]]
"""A decision prepared for a measure and its audit detail (``service.decisions._detail``)."""

_OPENED: dict[str, str] = {}
"""The lines of the payloads opened last: a question decodes its measure's line only, and the
next question about the same subject (another measure) should not inflate the state again."""
_OPENED_MAX = 1024

_READ: dict[str, tuple[str, bool, bool, tuple[Reason, ...]]] = {}
"""A measure's line read back (kind, answer, known, reasons), by the line's text. Why: a city's
states hold few distinct lines per measure (33 for ``no-flights`` among 3,150 subjects of the
bench's city: most people are allowed for the same reason), so a question about a subject not
asked before reads its line from here, not by ``json.loads`` and rebuilding each reason; and
subjects with the same line then share one ``reasons`` tuple, which the API's reply renderer
words once by its identity (``api/decisionmodels.DecisionReplies``; decision 0101). Reasons
are frozen, their texts immutable: sharing them changes no answer."""
_READ_MAX = 4096


def forget() -> None:
    """Empty the memos of opened payloads and read lines (a bench timing first reads; a test)."""
    _OPENED.clear()
    _READ.clear()


def basis(registry: Registry, holidays: Iterable[dt.date]) -> str:
    """The digest of everything a state is computed under besides the store: every scheme file
    loaded (all versions, by content hash), the holiday calendar and this codec's format."""
    parts = sorted(f"{s.id}@{s.version}:{s.content_hash}" for s in registry.kept)
    days: list[object] = [FORMAT, parts, sorted(d.isoformat() for d in holidays)]
    if extra := worked(holidays):  # weekend days worked in place of holidays
        days.append(sorted(d.isoformat() for d in extra))
    text = json.dumps(days)
    return hashlib.sha256(text.encode()).hexdigest()


def encode(decisions: Mapping[str, Prepared], represents: Iterable[str]) -> str:
    """The payload: the lines (:func:`encode_plain`) compressed with dictionary ``DICTIONARY``,
    in base64 behind its mark (the column is text)."""
    return compress(encode_plain(decisions, represents))


def compress(lines: str, number: str | None = None) -> str:
    """``lines`` (:func:`encode_plain`'s) as a payload compressed with dictionary ``number``
    (``DICTIONARY`` by default)."""
    number = number or DICTIONARY
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zdict=dictionary(number))
    packed = packer.compress(lines.encode()) + packer.flush()
    return f"{MARK}{number}:{base64.b64encode(packed).decode('ascii')}"


def encode_plain(decisions: Mapping[str, Prepared], represents: Iterable[str]) -> str:
    """The lines, the payload as written before decision 0089 (and still read): a first line
    with the organisations the subject's decisions include as legal representative, then a line
    per measure, its id, a tab and its decision as JSON (its subject, time and receipt are the
    row's or the reply's), each text of a reason as :func:`held` keeps it (a plain string is
    written as before, byte for byte). Lines, so that a question decodes its own measure's line only:
    parsing all of them cost more than the row's read."""
    lines = [json.dumps(list(represents))]
    for mid, (d, _) in decisions.items():
        line = [d.measure_kind, d.allowed, d.subject_known, [_reason(r) for r in d.reasons]]
        lines.append(f"{mid}\t{json.dumps(line, separators=(',', ':'), ensure_ascii=False)}")
    return "\n".join(lines)


def opened(payload: str) -> str:
    """The lines of ``payload``: as they are when plain, else inflated with the dictionary its
    mark names. :class:`Unavailable` naming the payload for a mark or data this code cannot
    read (an installation older than the dictionary, a damaged row): the installation's fault."""
    if not payload.startswith(MARK):
        return payload
    lines = _OPENED.get(payload)
    if lines is not None:
        return lines
    number, sep, data = payload[1:].partition(":")
    if not sep or not number.isdigit():
        raise Unavailable(N_("no dictionary number after {mark!r}", mark=MARK), field="payload")
    try:
        unpacker = zlib.decompressobj(15, zdict=dictionary(number))
        lines = (unpacker.decompress(base64.b64decode(data, validate=True)) + unpacker.flush()).decode()
    except (zlib.error, binascii.Error, UnicodeDecodeError) as e:
        message = N_("unreadable with state dictionary {number}: {error}", number=number, error=str(e))
        raise Unavailable(message, field="payload") from e
    if len(_OPENED) >= _OPENED_MAX:
        _OPENED.clear()
    _OPENED[payload] = lines
    return lines


@cache
def dictionary(number: str) -> bytes:
    """Dictionary ``number`` (``statedicts/<number>.txt``: the lines common to many states of a
    synthetic city, written once by ``bench/statecodec.py --dictionary`` and never changed).
    :class:`Unavailable` naming the payload's dictionary when this installation has no such file."""
    try:
        held = resources.files("socialcredit.service").joinpath("statedicts", f"{number}.txt")
        return held.read_bytes()
    except (FileNotFoundError, OSError):
        raise Unavailable(N_("no state dictionary {number}", number=number), field="payload") from None


def represents(payload: str) -> tuple[str, ...]:
    """The organisations ``encode`` wrote."""
    return tuple(json.loads(opened(payload).partition("\n")[0]))


def decision(payload: str, measure_id: str, code: str, as_of: dt.datetime) -> Decision | None:
    """The decision on ``measure_id`` ``encode`` wrote (``None``: none was)."""
    lines = opened(payload)
    start = lines.find(f"\n{measure_id}\t")
    if start < 0:
        return None
    start += len(measure_id) + 2
    end = lines.find("\n", start)
    line = lines[start : end if end >= 0 else None]
    read = _READ.get(line)
    if read is None:
        kind, allowed, known, written = json.loads(line)
        read = (kind, allowed, known, tuple(_unreason(r) for r in written))
        if len(_READ) >= _READ_MAX:
            _READ.clear()
        _READ[line] = read
    kind, allowed, known, reasons = read
    return Decision(code, measure_id, kind, allowed, as_of, reasons, None, known)


def decode(payload: str, code: str, as_of: dt.datetime) -> tuple[dict[str, Decision], tuple[str, ...]]:
    """Every decision (by measure id) and the represented organisations ``encode`` wrote."""
    lines = opened(payload)
    ids = [line.partition("\t")[0] for line in lines.split("\n")[1:]]
    found = {mid: decision(lines, mid, code, as_of) for mid in ids}
    return {mid: d for mid, d in found.items() if d is not None}, represents(lines)


def _reason(r: Reason) -> list[Any]:
    return [
        r.basis,
        held(r.text),
        r.list_id,
        r.since.isoformat() if r.since else None,
        r.until.isoformat() if r.until else None,
        list(r.grounds),
        r.legal_basis,
        r.how_to_resolve,
        r.via,
        [held(x) for x in r.explanation],
    ]


def _unreason(v: list[Any]) -> Reason:
    basis_, text, list_id, since, until, grounds, legal, how, via, explanation = v
    return Reason(
        basis_,
        unheld(text),
        list_id,
        dt.date.fromisoformat(since) if since else None,
        dt.date.fromisoformat(until) if until else None,
        tuple(grounds),
        legal,
        how,
        via,
        tuple(unheld(x) for x in explanation),
    )


def held(value: object) -> Any:
    """A text of a reason as JSON that words again in any language (decision 0096): a
    :class:`Text` as its template and values (``{"m": ..., "p": {...}}``), a scheme's title as
    what finds it in the scheme's catalogue (``{"T": [kind, key, english, scheme]}``), joined
    lines as theirs (``{"L": [...], "s": sep}``); a plain string, number or ``None`` as itself.
    A value of another kind (a subclass this does not know how to word) is kept as its ``str``,
    its English: nothing the decisions hold today (``tests/test_statecodec_zh.py`` walks a city's
    decisions for it, and would see the Chinese differ)."""
    if type(value) is Title:
        return {"T": [value.kind, value.key, str(value), value.scheme]}
    if type(value) is Text:
        if not value.params:
            return {"m": value.template}
        return {"m": value.template, "p": {k: held(v) for k, v in value.params.items()}}
    if type(value) is Lines:
        return {"L": [held(x) for x in value.lines], "s": value.sep}
    if value is None or type(value) in (str, int, float, bool):
        return value
    return str(value)


def unheld(value: Any) -> Any:
    """:func:`held` read back: the very :class:`Text` (or title, or lines) that was written; a
    string stays a string (a payload written before 0096 held the English only)."""
    if not isinstance(value, dict):
        return value
    if "T" in value:
        kind, key, english, scheme = value["T"]
        return Title(kind, key, english, scheme)
    if "L" in value:
        return Lines([unheld(x) for x in value["L"]], value["s"])
    return Text(value["m"], {k: unheld(v) for k, v in value.get("p", {}).items()})
