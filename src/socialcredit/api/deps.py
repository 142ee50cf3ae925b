"""Typed dependencies: the system and the authenticated caller.

Both are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool,
one hop per dependency per request, which on the decision endpoint cost more than the decision.
Neither blocks the event loop: the system is an attribute, and a token verified in the last
second is trusted from memory (``System.cached_principal``); any other token is checked against
the store in the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from socialcredit import access
from socialcredit.service import System


async def get_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


SystemDep = Annotated[System, Depends(get_system)]


async def authenticate(
    system: SystemDep,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
    x_api_key: Annotated[str | None, Header(description="The API key (alternative header)")] = None,
) -> access.Principal:
    token = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    principal = system.cached_principal(token)
    if principal is None:
        principal = await run_in_threadpool(system.authenticate, token)
    return principal


CurrentKey = Annotated[access.Principal, Depends(authenticate)]
