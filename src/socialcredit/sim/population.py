"""A synthetic population for the simulator: persons and organisations as arrays, indexed by integer.

Why arrays and not :mod:`socialcredit.synth`'s subjects: the simulator follows a million people a
month, so a person is a row index and its traits are columns; real identity codes are made only
where a record must go through the live code (the parity test). Districts and their weights are
synth's (Weihai prefecture), so the simulated city is the demo's city.

Traits (all deterministic from the seed): district, age band, income band, whether in the labour
force (aged under 65) and employed, a misconduct and a good-deeds propensity (gamma with mean 1;
shape 0.5 and 0.7 as in synth, so a minority account for most records, or all 1 when
heterogeneity is off), and contacts: about ``contacts`` per person, four in five in the same
district, as a ``scipy.sparse`` matrix (row i: the people i names). Organisations (one per 20 persons) have a
district, propensities and a legal representative (an adult person).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]

from socialcredit.synth import DISTRICTS

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_WEIGHTS = (0.10, 0.18, 0.18, 0.20, 0.17, 0.17)
INCOME_BANDS = ("low", "middle", "high")
INCOME_WEIGHTS = (0.3, 0.5, 0.2)
EMPLOYED_SHARE = (0.90, 0.95, 0.98)
"""Share of the labour force employed at the start, by income band."""
SAME_DISTRICT = 0.8


@dataclass(frozen=True)
class Population:
    """Persons first (indices ``0..n_persons-1``), then organisations."""

    n_persons: int
    n_orgs: int
    district: IntArray
    age_band: IntArray
    """Index into AGE_BANDS; -1 for organisations."""
    income_band: IntArray
    """Index into INCOME_BANDS; -1 for organisations."""
    labour_force: BoolArray
    employed: BoolArray
    neg_propensity: FloatArray
    pos_propensity: FloatArray
    representative: IntArray
    """For each organisation (in order), the person index of its legal representative."""
    contacts: sp.csr_matrix

    @property
    def n(self) -> int:
        return self.n_persons + self.n_orgs

    @property
    def is_person(self) -> BoolArray:
        out = np.zeros(self.n, dtype=np.bool_)
        out[: self.n_persons] = True
        return out


def synthesize(n_persons: int, *, seed: int, heterogeneity: bool = True, contacts: int = 8) -> Population:
    """The population for ``seed``: the same arguments give the same arrays."""
    if n_persons < 1:
        raise ValueError("a population needs at least one person")
    rng = np.random.default_rng([seed, 1])
    n_orgs = max(1, n_persons // 20)
    n = n_persons + n_orgs
    w = np.array([d.weight for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), size=n, p=w / w.sum()).astype(np.int64)
    age = np.full(n, -1, dtype=np.int64)
    age[:n_persons] = rng.choice(len(AGE_BANDS), size=n_persons, p=AGE_WEIGHTS)
    income = np.full(n, -1, dtype=np.int64)
    income[:n_persons] = rng.choice(len(INCOME_BANDS), size=n_persons, p=INCOME_WEIGHTS)
    labour = np.zeros(n, dtype=np.bool_)
    labour[:n_persons] = age[:n_persons] < AGE_BANDS.index("65+")
    employed = labour & (rng.random(n) < np.array(EMPLOYED_SHARE)[np.maximum(income, 0)])
    if heterogeneity:
        neg = rng.gamma(0.5, 2.0, n)
        pos = rng.gamma(0.7, 1 / 0.7, n)
    else:
        neg = np.ones(n)
        pos = np.ones(n)
    adults = np.flatnonzero(age[:n_persons] >= AGE_BANDS.index("25-34"))
    pool = adults if len(adults) else np.arange(n_persons)
    rep = pool[rng.integers(0, len(pool), n_orgs)].astype(np.int64)
    return Population(
        n_persons=n_persons,
        n_orgs=n_orgs,
        district=district,
        age_band=age,
        income_band=income,
        labour_force=labour,
        employed=employed,
        neg_propensity=neg,
        pos_propensity=pos,
        representative=rep,
        contacts=_contacts(rng, district[:n_persons], contacts),
    )


def _contacts(rng: np.random.Generator, district: IntArray, k: int) -> sp.csr_matrix:
    """Each person names ``k`` contacts, four in five from the same district (row i: whom i counts).

    Directed on purpose: a relationships factor averages the scores of the people *I* name, and
    ostracism is me dropping someone; a tie named twice counts twice (rare, about k*k/n). Rows of
    fixed length need no sort, which keeps a million persons' contacts under a second."""
    n = len(district)
    if n < 2 or k == 0:
        return sp.csr_matrix((n, n), dtype=np.float64)
    m = n * k
    i = np.repeat(np.arange(n, dtype=np.int64), k)
    by_district = np.argsort(district, kind="stable")
    counts = np.bincount(district, minlength=len(DISTRICTS))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    local = by_district[starts[district[i]] + (rng.random(m) * counts[district[i]]).astype(np.int64)]
    far = rng.integers(0, n, m)
    j = np.where(rng.random(m) < SAME_DISTRICT, local, far)
    j = np.where(j == i, (j + 1) % n, j).astype(np.int32)
    indptr = np.arange(0, m + 1, k, dtype=np.int64)
    return sp.csr_matrix((np.ones(m), j, indptr), shape=(n, n))
