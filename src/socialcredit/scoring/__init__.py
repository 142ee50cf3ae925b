"""Scoring: a scheme's model applied to a subject's effective records as of a time.

Each model has one definition, used for one subject and for a whole population (the population
path maps the same function over subjects), so an explanation always matches the score.
"""

from socialcredit.scoring.points import Contribution, Score, score_points, score_timeline

__all__ = ["Contribution", "Score", "score_points", "score_timeline"]
