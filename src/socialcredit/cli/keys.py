"""``socialcredit keys ...``: create, list, revoke and rotate API keys (tokens shown once,
stored hashed).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from socialcredit import access, i18n
from socialcredit.api.keymodels import KeysOut, NewKeyOut
from socialcredit.cli.common import JsonOpt, app, emit, fail, open_system, out, refusal
from socialcredit.errors import Refused
from socialcredit.i18n import N_

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Argument(help="operator, agency, relying_party, subject or auditor")],
    principal: Annotated[
        str | None,
        typer.Argument(
            help="agency id, implementer name, identity code, or for an operator the person who "
            "holds the key (required: case decisions are recorded against that person)"
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key")] = "",
    days: Annotated[int | None, typer.Option(help="Expire after this many days")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key; the token is printed once and only its hash is stored."""
    if role not in access.ROLES:
        fail(
            i18n.translate(
                N_("ROLE: {role!r} is not one of {roles}", role=role, roles=", ".join(access.ROLES))
            )
        )
    system = open_system()
    expires = system.clock() + dt.timedelta(days=days) if days else None
    try:
        key = system.create_key(role, principal, name=name, expires_at=expires)
    except Refused as exc:
        fail(refusal(exc, {"principal": "PRINCIPAL"}))
    if as_json:  # as POST /keys answers
        emit(NewKeyOut.of_new(key))
    else:
        whose = f"{key.role} {key.principal}" if key.principal else key.role
        out.print(i18n.translate(N_("key {key} ({whose}):", key=key.key_id, whose=whose)))
        out.print(key.token, highlight=False)


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List keys (never their tokens)."""
    system = open_system()
    rows = system.store.list_keys()
    if as_json:  # as GET /keys answers
        emit(KeysOut.of(rows))
        return
    t = Table("key", "role", "principal", "name", "created", "expires", "revoked")
    for k in rows:
        t.add_row(
            k.key_id,
            k.role,
            k.principal or "",
            k.name,
            f"{k.created_at:%Y-%m-%d}",
            f"{k.expires_at:%Y-%m-%d}" if k.expires_at else "",
            f"{k.revoked_at:%Y-%m-%d}" if k.revoked_at else "",
        )
    out.print(t)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id")], as_json: JsonOpt = False) -> None:
    """Revoke a key at once."""
    system = open_system()
    if not system.revoke_key(key_id):
        fail(i18n.translate(N_("KEY_ID: no active key {key!r}", key=key_id)))
    if as_json:  # as DELETE /keys/{key_id} answers: the keys now
        emit(KeysOut.of(system.store.list_keys()))
    else:
        out.print(i18n.translate(N_("revoked {key}", key=key_id)))


@keys_app.command("rotate")
def keys_rotate(
    key_id: Annotated[str, typer.Argument(help="The key id")],
    days: Annotated[int | None, typer.Option(help="Expire after this many days (default: as before)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a key by a new token for the same role and principal; the old one is revoked at once."""
    system = open_system()
    now = system.clock()
    try:
        new = system.rotate_key(key_id, expires_at=now + dt.timedelta(days=days) if days else True)
    except Refused as exc:
        fail(refusal(exc, {"key_id": "KEY_ID", "expires_at": "--days"}))
    if new is None:
        fail(i18n.translate(N_("KEY_ID: no active key {key!r}", key=key_id)))
    if as_json:  # as POST /keys/{key_id}/rotate answers
        emit(NewKeyOut.of_new(new))
    else:
        out.print(
            f"revoked {key_id}; key {new.key_id} ({new.role}{' ' + new.principal if new.principal else ''}):"
        )
        out.print(new.token, highlight=False)


@keys_app.command("rewrap")
def keys_rewrap() -> None:
    """Re-wrap every data key of crypto-shredding under the master key now configured
    (SOCIALCREDIT_MASTER_KEY), unwrapping with the ones in SOCIALCREDIT_PREVIOUS_MASTER_KEYS: the
    master key rotates without re-encrypting any record (decision 0046)."""
    system = open_system()
    vault = system.store.sealing.vault
    try:
        done = vault.rotate(vault.master)
    except Refused as exc:
        fail(refusal(exc))
    out.print(
        i18n.translate(
            N_("re-wrapped {n} data keys under master key {master}", n=done, master=vault.master.key_id)
        ),
        highlight=False,
    )
