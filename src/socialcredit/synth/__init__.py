"""A synthetic city: residents, organisations and the credit records agencies report about them.

The city is modelled on Weihai prefecture (Shandong), home of the Rongcheng pilot: residents live
in Rongcheng, Huancui, Wendeng or Rushan; most organisations are small companies whose legal
representative is one of the residents. Everything is invented, but every identity code is valid:
a person's code is a Resident ID number that python-stdnum's ``stdnum.cn.ric.validate`` accepts
(a region code of the district as it was coded in the birth year, the birth date, an order code
odd for men and even for women, and the MOD 11-2 check digit), and an organisation's code is a
Unified Social Credit Code that ``stdnum.cn.uscc.validate`` accepts, whose organisation code
also passes its own GB 11714 check (``codes.organisation_check_character``).

Records follow the base rates of the scheme catalogues: for every item that applies to a kind of
subject, the number of records a subject gets over the window is Poisson with mean
``base_rate_per_year x years x propensity``. Propensities are gamma distributed with mean 1 and a
heavy tail (one for misconduct, one for good deeds), so most subjects have a few records and a
minority many, which gives a realistic spread of grades. Court listings (the grounds of a list
that is removed on fulfilment) are followed, for about 60 per cent of them, by a fulfilment record
some months later, so listings also come off; a fulfilment that would fall after the window is
not generated. Fulfilment items are only generated this way, never on their own.

Each record is an ingest row (the fields of ``ledger.FIELDS``): a source drawn from the item's
allowed sources, ``source_record_id`` ``f"{source}-{n:09d}"`` numbered per source within one run
(so two runs with different seeds collide: ingest one of them), ``occurred_on`` uniform in the
window, ``reported_at`` 0-30 days later (mostly within a week, never after the window; in office
hours in China, 08:00 to 20:00 there, stored as UTC), an
evidence reference in the agency's style, and for court records ``details`` naming the case
number and court (listings also the obligation and ``"performance": "none"``; a fulfilment
repeats the listing's case, court and obligation and says how it was performed).

``target_records``: the shipped base rates give about 9 records per resident over 3 years (about
940,000 for the default 100,000 residents and 5,000 organisations); a caller that wants a given
volume passes ``target_records`` and every rate is multiplied by the same factor, so the expected
total equals the target and the mix of items is unchanged (:func:`estimate_records` gives the
expected total, for a progress bar).

Why deterministic: the demo, the tests and the benchmarks must show the same city every time, and
a bug seen in a generated ledger must be reproducible. So every random draw comes from numpy
``default_rng`` seeded by ``seed`` (records: one stream per block of subjects, so a block's
records do not depend on how the output is consumed), items and sources are taken in sorted
order rather than dict order, and the same arguments give byte-identical output.
"""

from socialcredit.synth.city import BIRTH_YEARS, DISTRICTS, NOT_AGENCIES, City, District, generate_city
from socialcredit.synth.consent import consent_records
from socialcredit.synth.optin import APPLY_SHARE
from socialcredit.synth.records import (
    FULFILMENT_MIN_DAYS,
    FULFILMENT_SHARE,
    estimate_records,
    generate_records,
)

__all__ = [
    "APPLY_SHARE",
    "BIRTH_YEARS",
    "NOT_AGENCIES",
    "DISTRICTS",
    "FULFILMENT_MIN_DAYS",
    "FULFILMENT_SHARE",
    "City",
    "consent_records",
    "District",
    "estimate_records",
    "generate_city",
    "generate_records",
]
