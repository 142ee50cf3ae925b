"""The rules kernel: every formula a scheme's rules need, written once.

A scheme is scored, listed and decided by three evaluators: the per-subject walk (plain Python,
at the point of service), the relational engines (Ibis on DuckDB or Spark, for a population) and
the simulator (NumPy arrays, month by month). They differ in how they iterate, never in what they
compute: each passes its library in as an :class:`~socialcredit.rules.ops.Ops` and calls the
formulas of :mod:`socialcredit.rules.kernel` (retention, decay, clamp, grade, listing period and
extension, window tests, tier conditions, factor mapping). Which scheme fields each evaluator
reads, refuses or may ignore is declared in :mod:`socialcredit.rules.fields`, and a test walks
every field of every scheme model against those declarations.

This package is core: it imports no adapter and no evaluator library.
"""

from socialcredit.rules.ops import PY, Ops

__all__ = ["PY", "Ops"]
