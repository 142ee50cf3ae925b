"""The id a test's record is stored under. Since decision 0080 a record's id is keyed under the
installation's pseudonym key, so a test asks the store for it (``Store.stored_record_id``), as the
portal and the services do, rather than computing ``ledger.record_id_for`` (the unkeyed id of a
record stored before)."""

from __future__ import annotations

from socialcredit.settings import get_settings
from socialcredit.store import Store


def cli_record_id(source: str, source_record_id: str) -> str:
    """The id of a record the command line stored in the ``env`` fixture's store."""
    store = Store(get_settings().url())
    try:
        return store.stored_record_id(source, source_record_id)
    finally:
        store.close()
