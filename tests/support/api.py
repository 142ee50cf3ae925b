"""Calling the HTTP API as someone: the headers of a fresh key of a role."""

from __future__ import annotations

from socialcredit.service import System


def h(system: System, role: str, principal: str | None = None) -> dict[str, str]:
    return {"X-API-Key": system.create_key(role, principal).token}  # type: ignore[arg-type]
