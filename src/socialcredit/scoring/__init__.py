"""Scoring: a scheme's model applied to a subject's effective records as of a time.

Each model has one definition, used for one subject and for a whole population (the population
path maps the same function over subjects), so an explanation always matches the score.
:func:`score` and :func:`timeline` dispatch on the scheme's model (points, tier or factor); callers
read the common :class:`Score`.
"""

from socialcredit.scoring.dispatch import score, scores_for, timeline
from socialcredit.scoring.points import score_points, score_timeline
from socialcredit.scoring.result import Contribution, FactorLine, ReasonCode, Score

__all__ = [
    "Contribution",
    "FactorLine",
    "ReasonCode",
    "Score",
    "score",
    "score_points",
    "score_timeline",
    "scores_for",
    "timeline",
]
