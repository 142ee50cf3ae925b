"""The command line: the whole core from a terminal, each command with ``--json`` for scripts.

A package with a module per group of commands, each registering on the one ``app`` of
:mod:`.common` (the group, the consoles, failures, opening the installation): :mod:`.ledger`
(``ingest``, ``register``, ``export``, ``rescore``), :mod:`.subjects` (``score``, ``check``),
:mod:`.documents` (``documents link``, ``documents list``),
:mod:`.integrity` (``verify``, ``checkpoint``, ``backup``, ``restore``), :mod:`.tlog`
(``proof verify``, ``witness``), :mod:`.schemes`
(``lint``), :mod:`.demo` (``serve``, ``demo``), :mod:`.keys`, :mod:`.cases`, :mod:`.public` and
:mod:`.sim` (``simulate``). Bad input exits with status 2 and one line naming what is wrong.
"""

# Each module registers its commands on `app` when imported; `--help` lists them in this order,
# the README's.
# isort: off
from socialcredit.cli import demo, ledger, subjects, documents, integrity, schemes  # noqa: F401
from socialcredit.cli import cases, public, sim, keys, db, tlog  # noqa: F401

# isort: on
from socialcredit.cli.common import app


def main() -> None:
    """The ``socialcredit`` entry point (``pyproject.toml``)."""
    app()


__all__ = ["app", "main"]
