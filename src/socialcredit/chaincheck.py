"""Diagnosing a hash chain: which entries were altered, removed or reordered, and nothing else.

Every chain (the ledger's records, the audit log, the case events) links each entry with
:func:`socialcredit.ledger.chain_hash`: SHA-256 over the previous entry's chain hash, the entry's
own ``seq``, its content, its receipt time and its batch. So an entry's stored hash vouches for
three things at once: its content, its position and the hash of the entry before it. That is why
a link that fails to recompute from the entry stored before it is not, on its own, a verdict on
that entry: the entry before it may have been removed, or moved away, and the entry itself be
untouched. Naming every failed link, as a plain walk does, names untouched neighbours.

So :func:`verify_chain` walks the chain once, keeps the entries whose link fails (the suspects,
few in any real case), and then looks for the arrangement under which each suspect's stored hash
recomputes:

- at its own seq after the entry that originally preceded it: the suspect is intact, only its
  predecessor moved away (nothing is said about it);
- at another seq ``s`` after the entry that originally held ``s - 1``: it was moved from ``s``
  (its whole row, hash included, or only its content, the hash left in place); the moves found
  are grouped into their cycles: "reordered: seq A and seq B";
- nowhere, and the entry that originally preceded it is gone (a gap in the seqs): "missing between
  seq N and M", the surviving neighbours named, the successor not;
- nowhere, its predecessor present: "altered: seq N".

An entry whose own stored hashes no longer recompute from its fields (a record's content and
claim hash; an audit entry's or case event's :func:`own_hash`, decision 0071) is altered whatever
its links say: that catches an edit to the entry right after a removed one, whose link cannot be
checked. An entry stored before its chain kept such a hash has none, and an edit to it right
after a removal is invisible there (a signed checkpoint still shows it); so is one to a
registry entry until its chain keeps one.

The transparency log holds each entry's leaf hash apart from its row (``logged``: the level-0
tiles, grown in the appending transaction). It covers the same bytes as the entry's link, so it
cannot vouch for an entry whose predecessor is gone; it does catch an entry edited with its own
chain hash recomputed: its link then recomputes, but not the leaf the log holds at its seq, after
an entry the log vouches for. That entry is named altered, and the entry after it, whose link
fails only because the hash before it was rewritten, is not. An entry whose stored chain hash
alone was changed (the log vouches for its content, seq and predecessor) is named, and the entry
after it is checked against the hash it had (decision 0057).

The search is bounded (:data:`SEARCH_BUDGET` hash computations): a chain renumbered wholesale, or
broken everywhere, is then reported entry by entry as altered, as a walk would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from socialcredit.i18n import N_, Text
from socialcredit.ledger import GENESIS, LEAF_PREFIX, chain_linker, iso_dt, link_bytes

Kind = Literal["altered", "missing", "reordered"]
SEARCH_BUDGET = 500_000  # link hashes the reorder search may compute (about half a second)
MOVED_INTO_GAP = 9  # a gap of up to 8 removed seqs is searched for an entry moved into it


def own_hash(content: str, at: dt.datetime, tag: str) -> str:
    """An entry's own hash, kept in its row beside its chain hash: SHA-256 of what its link covers
    but the previous entry's hash and its seq (``ledger.link_bytes`` without them). Why: beside a
    removal the predecessor's hash is gone, so neither the link nor the log's leaf of the next
    entry can be recomputed; this can, and names an edit there, as a record's content hash does.
    Why no seq: an entry moved whole keeps it, so a move is still told from an edit."""
    return hashlib.sha256(f"{content}|{iso_dt(at)}|{tag}".encode()).hexdigest()


def own_ok(stored: str | None, content: str, at: dt.datetime, tag: str) -> bool:
    """Whether an entry's stored own hash recomputes (True where none was kept)."""
    return stored is None or stored == own_hash(content, at, tag)


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored entry of a chain, as the store reads it back.

    ``content`` is what the chain hash covers of it (a record's content hash, an audit entry's
    canonical text); ``own_ok`` is False when a hash the entry stores of itself (a record's content
    or claim hash) no longer recomputes from its fields."""

    seq: int
    label: str
    content: str
    received_at: dt.datetime
    batch: str
    stored: str
    own_ok: bool = True

    def link(self, prev: str, seq: int) -> str:
        """This entry's chain hash were it at ``seq`` after an entry whose hash is ``prev``."""
        return chain_linker(self.received_at, self.batch)(prev, seq, self.content)

    def leaf(self, prev: str) -> bytes:
        """This entry's bytes in the transparency log: its link's (``ledger.link_bytes``), after
        the entry whose chain hash is ``prev``."""
        return link_bytes(prev, self.seq, self.content, self.received_at, self.batch)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One fault in a chain: what kind, and exactly the seqs it concerns.

    ``seqs`` are the altered entry's seq; the reordered entries' seqs; for a removal, the seqs of
    the surviving neighbours (one of them at either end of the chain). ``entries`` label the
    entries named (a record's id), none for a removal."""

    kind: Kind
    seqs: tuple[int, ...]
    entries: tuple[str, ...] = ()
    where: Literal["between", "before", "after", "all"] = "between"

    @property
    def problem(self) -> Text:
        """The message: "altered: seq N", "missing between seq N and M", "reordered: seq A and
        seq B"; its ``str`` the English (``--json``, the API, logs), worded in the reader's
        language where a person reads it (``verify``)."""
        if self.kind == "altered":
            return N_("altered: seq {seq}", seq=self.seqs[0])
        if self.kind == "reordered":
            first = ", ".join(f"seq {s}" for s in self.seqs[:-1])  # "seq" is the column's name
            return N_("reordered: {first} and seq {last}", first=first, last=self.seqs[-1])
        if self.where == "before":
            return N_("missing before seq {seq}", seq=self.seqs[0])
        if self.where == "after":
            return N_("missing after seq {seq}", seq=self.seqs[0])
        if self.where == "all":
            return N_("missing: every entry")
        return N_("missing between seq {first} and {last}", first=self.seqs[0], last=self.seqs[1])

    @property
    def seq(self) -> int:
        """The first seq named (0 when every entry is missing)."""
        return self.seqs[0] if self.seqs else 0

    @property
    def record_id(self) -> str:
        """The first entry named, or ``?`` for a removal (the shape ``verify`` always answered)."""
        return self.entries[0] if self.entries else "?"

    def __str__(self) -> str:
        return f"{self.problem} ({', '.join(self.entries)})" if self.entries else self.problem


@dataclass(frozen=True, slots=True)
class _Suspect:
    entry: Entry
    pred_seq: int  # the seq of the entry stored before it (0: none)


Logged = Callable[[int], bytes | None]
"""The leaf hash the transparency log holds for a seq, or None where it holds none."""


def verify_chain(
    entries: Iterable[Entry], *, head: tuple[int, str] | None = None, logged: Logged | None = None
) -> list[ChainProblem]:
    """Every fault of a chain whose ``entries`` come in stored seq order, each named once (see the
    module docstring); an empty list for an intact chain.

    ``head`` is the chain's (count, last hash) kept apart from the entries, read before them: it
    catches the removal of the newest entries. Entries beyond it were appended meanwhile.
    ``logged`` gives the leaf hash the chain's transparency log holds at each seq: it catches an
    entry rewritten with its chain hash."""
    suspects: list[_Suspect] = []
    hash_at: dict[int, str] = {0: GENESIS}  # stored hashes by stored seq, around the suspects
    rewritten: set[int] = set()  # stored seqs whose link recomputes but whose logged leaf does not
    last_seq, last_hash = 0, GENESIS
    vouched = True  # the log vouches for the stored hash before the entry (its leaf recomputed)
    at_head: str | None = None
    for e in entries:
        chained = e.seq == last_seq + 1 and e.link(last_hash, e.seq) == e.stored
        linked = e.own_ok and chained
        held = e.stored  # the hash the next entry links to: its stored one, or the one it had
        if logged is not None:
            leaf = logged(e.seq)
            faithful = (
                leaf is not None
                and e.seq == last_seq + 1
                and hashlib.sha256(LEAF_PREFIX + e.leaf(last_hash)).digest() == leaf
            )
            if linked and vouched and leaf is not None and not faithful:
                e, linked = replace(e, own_ok=False), False
            if faithful and not chained:  # the log vouches for all but its stored hash: that alone
                held = e.link(last_hash, e.seq)  # changed, and the next link is checked against the old
            vouched = faithful
        if chained and not e.own_ok:  # its chain hash was recomputed over what it holds now
            rewritten.add(e.seq)
        if not linked:
            suspects.append(_Suspect(e, last_seq))
            hash_at[last_seq] = last_hash
            hash_at[e.seq] = e.stored
        if head is not None and e.seq == head[0]:
            at_head = e.stored
        last_seq, last_hash = e.seq, held
    if not suspects and (head is None or (head[0] == last_seq and head[1] == last_hash)):
        return []
    return _Diagnosis(suspects, hash_at, last_seq, head, rewritten).findings(head, last_seq, at_head)


class _Diagnosis:
    """The search for where each suspect's stored hash recomputes, and what that says.

    Two kinds of evidence place an entry at an original seq ``s``: its own hash recomputes there,
    after the entry originally at ``s - 1`` (its content, position and predecessor all vouched
    for); or the entry originally at ``s + 1`` recomputes after it (only its stored hash vouched
    for: its own link is checked afterwards, and fails if its content was edited or its
    predecessor is gone)."""

    def __init__(
        self,
        suspects: Sequence[_Suspect],
        hash_at: dict[int, str],
        last_seq: int,
        head: tuple[int, str] | None,
        rewritten: set[int] | frozenset[int] = frozenset(),
    ) -> None:
        self.suspects = suspects
        self.hash_at = hash_at
        self.rewritten = rewritten
        # where a suspect may have come from: where one stands now, or a short gap (an entry moved
        # into the place of a removed one, or below the head's count)
        seqs = {s.entry.seq for s in suspects}
        for s in suspects:
            if s.entry.seq - s.pred_seq <= MOVED_INTO_GAP:
                seqs.update(range(s.pred_seq + 1, s.entry.seq))
        if head is not None and 0 < head[0] - last_seq < MOVED_INTO_GAP:
            seqs.update(range(last_seq + 1, head[0] + 1))
        self.seqs = sorted(seqs)
        self.origin: dict[int, int] = {}  # stored seq -> original seq of the entry stored there
        self.verified: set[int] = set()  # stored seqs whose own link recomputes at their origin
        self.content_from: dict[int, int] = {}  # stored seq -> original seq of its content only
        self.held: dict[int, list[str]] = {}  # original seq -> stored hashes of the entries moved from it
        self.budget = SEARCH_BUDGET
        self._search()

    def holders(self, s: int) -> list[str]:
        """Stored hashes that may be the one originally at seq ``s``: an entry found moved from
        it, or the entry stored at ``s`` unless it was found moved from elsewhere."""
        out = list(self.held.get(s, ()))
        if s == 0:
            out.append(GENESIS)
        elif s in self.hash_at and self.origin.get(s, s) == s:
            out.append(self.hash_at[s])
        return out

    def _put(self, e: Entry, s: int, *, verified: bool) -> None:
        self.origin[e.seq] = s
        if verified:
            self.verified.add(e.seq)
        if s != e.seq:
            self.held.setdefault(s, []).append(e.stored)

    def _place(self, e: Entry) -> bool:
        """Place ``e`` by its own hash (or its content by the hash left where it came from)."""
        for s in self.seqs:
            for p in self.holders(s - 1):
                self.budget -= 1
                if e.link(p, s) == e.stored:
                    self._put(e, s, verified=True)
                    return True
        for s in self.seqs:  # its content moved here, the hashes left in place
            if s == e.seq or s not in self.hash_at or self.origin.get(s, s) != s:
                continue
            for p in self.holders(s - 1):
                self.budget -= 1
                if e.link(p, s) == self.hash_at[s]:
                    self.content_from[e.seq] = s
                    return True
        return False

    def _vouch(self, pending: list[Entry]) -> bool:
        """Place an entry whose own link cannot be checked by the one that follows it."""
        for y in pending:
            for x in pending:
                if x is y or x.seq in self.origin:
                    continue
                for s in self.seqs:
                    self.budget -= 1
                    if s > 1 and y.link(x.stored, s) == y.stored:
                        self._put(y, s, verified=True)
                        self._put(x, s - 1, verified=False)
                        return True
        return False

    def _search(self) -> None:
        pending = [s.entry for s in self.suspects if s.entry.own_ok]
        if len(pending) * len(self.seqs) * max(len(pending), 4) > self.budget:
            return  # broken wholesale: too many to place; every suspect is judged in place
        while pending and self.budget > 0:
            placed = [e for e in pending if self._place(e)]
            if not placed and not self._vouch(pending):
                break
            pending = [e for e in pending if e.seq not in self.origin and e.seq not in self.content_from]
        for e in [s.entry for s in self.suspects]:  # a vouched entry's own link, now all are placed
            o = self.origin.get(e.seq)
            if (
                o is not None
                and e.seq not in self.verified
                and any(e.link(p, o) == e.stored for p in self.holders(o - 1))
            ):
                self.verified.add(e.seq)

    def _present(self, s: int) -> bool:
        """Whether the entry originally at ``s`` is still in the chain, wherever it is now."""
        return s == 0 or s in self.held or (s in self.hash_at and self.origin.get(s, s) == s)

    def _below(self, s: int) -> int:
        """The surviving neighbour before a removal: the nearest original seq still present."""
        return max(k for k in (*self.held, *self.hash_at) if k < s and self._present(k))

    def findings(
        self, head: tuple[int, str] | None, last_seq: int, at_head: str | None
    ) -> list[ChainProblem]:
        out: list[ChainProblem] = []
        moves = {t: s for t, s in self.origin.items() if s != t} | self.content_from
        out.extend(self._reorders(moves))
        gaps: set[int] = set()
        for sus in self.suspects:
            e = sus.entry
            if (e.seq in self.verified and e.own_ok) or e.seq in self.content_from:
                continue
            o = self.origin.get(e.seq, e.seq)
            if e.own_ok and o == e.seq and sus.pred_seq == o - 1 and o - 1 in self.rewritten:
                continue  # its link fails only because the hash before it was rewritten
            if not self._present(o - 1):
                if o not in gaps:
                    gaps.add(o)
                    below = self._below(o)
                    out.append(
                        ChainProblem("missing", (o,), where="before")
                        if below == 0
                        else ChainProblem("missing", (below, o))
                    )
                if e.own_ok:
                    continue  # its own link cannot be checked: nothing to say against it
            out.append(ChainProblem("altered", (e.seq,), (e.label,)))
        if head is not None:
            out.extend(self._head(head, last_seq, at_head, {p.seqs[0] for p in out if p.kind == "altered"}))
        return sorted(out, key=lambda p: (p.seq, p.kind))

    def _reorders(self, moves: dict[int, int]) -> list[ChainProblem]:
        """The moves grouped into their cycles (one swap: two seqs), each reported once."""
        labels = {s.entry.seq: s.entry.label for s in self.suspects}
        group: dict[int, int] = {}

        def root(x: int) -> int:
            while group.get(x, x) != x:
                x = group[x]
            return x

        for t, s in moves.items():
            group[root(t)] = root(s)
        cycles: dict[int, set[int]] = {}
        for t, s in moves.items():
            cycles.setdefault(root(t), set()).update((t, s))
        return [
            ChainProblem("reordered", tuple(sorted(c)), tuple(labels[x] for x in sorted(c) if x in moves))
            for c in cycles.values()
        ]

    def _head(
        self, head: tuple[int, str], last_seq: int, at_head: str | None, altered: set[int]
    ) -> list[ChainProblem]:
        count, head_hash = head
        if count > last_seq and count not in self.held:
            if last_seq == 0:
                return [ChainProblem("missing", (), where="all")]
            return [ChainProblem("missing", (max([last_seq, *self.held]),), where="after")]
        holders = list(self.held.get(count, ()))
        if at_head is not None and self.origin.get(count, count) == count:
            holders.append(at_head)
        if count == 0 or not holders or head_hash in holders or count in altered:
            return []  # nothing yet, or its removal is named already
        return [ChainProblem("altered", (count,))]
