"""The portal's routers, one module per page type; the fallback (an HTML 404) comes last."""

from __future__ import annotations

from fastapi import APIRouter

from socialcredit.web.routes import (
    audit,
    batches,
    decisions,
    disclosure,
    home,
    keys,
    operator,
    records,
    subjects,
)

ROUTERS: list[APIRouter] = [
    home.router,
    subjects.router,
    records.router,
    batches.router,
    decisions.router,
    audit.router,
    operator.router,
    keys.router,
    disclosure.router,
    home.fallback,
]
