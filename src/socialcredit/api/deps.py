"""Typed dependencies: the system and the authenticated caller.

Both are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool,
one hop per dependency per request, which on the decision endpoint cost more than the decision.
Neither blocks the event loop: the system is an attribute, and a token verified in the last
second is trusted from memory (``System.cached_principal``); any other token is checked against
the store in the thread pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from socialcredit import access
from socialcredit.api.inputs import CODE_DESCRIPTION, CODE_SCHEMA
from socialcredit.service import System


async def get_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


SystemDep = Annotated[System, Depends(get_system)]

# an identity code in the path, its pattern and format stated (``models.CODE_SCHEMA``)
CodePath = Annotated[str, Path(max_length=64, description=CODE_DESCRIPTION, json_schema_extra=CODE_SCHEMA)]


# The two ways to present a key, declared as OpenAPI security schemes (so Swagger UI has its
# Authorize button and generated clients know where the key goes); ``auto_error=False``: a
# missing key is :class:`socialcredit.errors.Unauthenticated`'s to answer, in the one shape.
BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="API key",
    description="Authorization: Bearer <API key>",
    auto_error=False,
)
API_KEY = APIKeyHeader(
    name="X-API-Key", scheme_name="apiKey", description="The API key (alternative header)", auto_error=False
)
# The same, for an operation documented by hand (the decision hot path declares no dependencies)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]


async def authenticate(
    system: SystemDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    x_api_key: Annotated[str | None, Security(API_KEY)] = None,
) -> access.Principal:
    token = bearer.credentials.strip() if bearer else x_api_key
    principal = system.cached_principal(token)
    if principal is None:
        principal = await run_in_threadpool(system.authenticate, token)
    return principal


CurrentKey = Annotated[access.Principal, Depends(authenticate)]


def role(*roles: access.Role, to: str) -> Any:
    """A key of one of ``roles``, else :class:`access.AccessDenied` saying what it may not do
    (``to``). Why a dependency and not a check in the route: FastAPI validates the body after
    the dependencies, so a key that may not call the route at all is told so (403) before it is
    told what is wrong with its body (422); a body never matters to a caller with no right to
    send it.

    Use as ``key: Annotated[access.Principal, role("operator", to=N_("create keys"))]``."""

    async def allowed(key: CurrentKey) -> access.Principal:
        access.require(key.role in roles, to)
        return key

    check: Callable[..., Awaitable[access.Principal]] = allowed
    return Depends(check)
