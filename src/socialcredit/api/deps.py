"""Typed dependencies: the system and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from socialcredit import access
from socialcredit.service import System


def get_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


SystemDep = Annotated[System, Depends(get_system)]


def authenticate(
    system: SystemDep,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
    x_api_key: Annotated[str | None, Header(description="The API key (alternative header)")] = None,
) -> access.Principal:
    token = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return system.authenticate(token)


CurrentKey = Annotated[access.Principal, Depends(authenticate)]
