"""Settings from the environment, read when first asked for (never at import time).

``SOCIALCREDIT_HOME`` is the data directory (default: the per-user data directory, e.g.
``~/.local/share/socialcredit``); ``SOCIALCREDIT_DATABASE_URL`` chooses the database (default:
the embedded SQLite file in the data directory; ``postgresql+psycopg://...`` for PostgreSQL);
``SOCIALCREDIT_HOLIDAYS`` a file of public holidays (default ``$SOCIALCREDIT_HOME/holidays.txt``);
``$SOCIALCREDIT_HOME/categories.yaml`` the operator's own item categories, added to the shipped
vocabulary (docs/categories.md). ``SOCIALCREDIT_MASTER_KEY`` (base64) is the master key that wraps
the data keys of crypto-shredding (default: the key file ``$SOCIALCREDIT_HOME/master.key``, made
on first use; ``SOCIALCREDIT_MASTER_KEY_FILE`` names another); ``SOCIALCREDIT_PREVIOUS_MASTER_KEYS``
(base64, comma-separated) the masters a rotation is moving away from; ``SOCIALCREDIT_KEYS_URL``
the database of the key table (default: the installation's database, decision 0046).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict

from socialcredit.dueprocess.calendar import WorkingCalendar
from socialcredit.shredding import MasterKey, master_key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOCIALCREDIT_")

    home: Path = Path(platformdirs.user_data_dir("socialcredit"))
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    holidays: Path | None = None
    # the transparency log's name: its checkpoints' origin lines and signing key name
    # (socialcredit.checkpoints.DEFAULT_ORIGIN when unset)
    log_origin: str | None = None
    master_key: str | None = None
    master_key_file: Path | None = None
    previous_master_keys: str = ""
    keys_url: str | None = None

    def master(self) -> MasterKey:
        """The master key that wraps every data key (``shredding.master_key``)."""
        return master_key(self.master_key, self.master_key_file or self.home / "master.key")

    def previous_masters(self) -> list[MasterKey]:
        """Masters still accepted for unwrapping while a rotation moves keys off them."""
        return [MasterKey.from_text(x) for x in self.previous_master_keys.split(",") if x.strip()]

    def calendar(self) -> WorkingCalendar:
        """Public holidays for working-day deadlines: ``SOCIALCREDIT_HOLIDAYS`` or
        ``$SOCIALCREDIT_HOME/holidays.txt`` (one ISO date per line, a weekend day worked in place
        of a holiday followed by ``working``), else weekends only."""
        path = self.holidays or self.home / "holidays.txt"
        if self.holidays is None and not path.is_file():
            return WorkingCalendar()
        return WorkingCalendar.parse(path.read_text(encoding="utf-8"))

    def operator_categories(self) -> tuple[str, str] | None:
        """The operator's category file as (text, path), if ``$SOCIALCREDIT_HOME/categories.yaml``
        exists; the core extends the shipped vocabulary with it (``schemes.categories.extend``)."""
        path = self.home / "categories.yaml"
        if not path.is_file():
            return None
        return path.read_text(encoding="utf-8"), str(path)

    def url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.home / 'socialcredit.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
