"""Settings from the environment, read when first asked for (never at import time).

``SOCIALCREDIT_HOME`` is the data directory (default: the per-user data directory, e.g.
``~/.local/share/socialcredit``); ``SOCIALCREDIT_DATABASE_URL`` chooses the database (default:
the embedded SQLite file in the data directory; ``postgresql+psycopg://...`` for PostgreSQL).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOCIALCREDIT_")

    home: Path = Path(platformdirs.user_data_dir("socialcredit"))
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000

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
