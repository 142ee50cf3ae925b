"""The simulator: what a scheme does to a population, before anyone runs it.

``population`` synthesises persons and organisations as arrays, ``scenario`` says what is in
force and with which settings, ``engine`` runs the months with the scheme's rules compiled by the
core (:mod:`socialcredit.sim.scorers`, :mod:`socialcredit.sim.compiled_lists`), and ``report``
writes the figures as JSON, PNG charts and an HTML page. See docs/simulation.md.
"""
