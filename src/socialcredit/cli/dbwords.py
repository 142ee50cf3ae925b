"""A database driver's own error, as a command's line in the reader's language (issue 18.2;
decision 0095).

Why: sqlite3 and psycopg word their errors in English ("database is locked", "unable to open
database file", "connection refused"), and a command that met one either printed it after "cannot
open the database" or ended in a traceback, as if it were a bug. Most are not bugs but the
installation's state: another process holds the lock, a folder is missing, a disk is full, the
database predates this release, the server is down. Each such error is known by what the driver
says of it (SQLite's error name, PostgreSQL's SQLSTATE, else the driver's words), so the line
gives, in the reader's language, the likely cause and what to do, then the driver's original
text for support. An error we do not know stays the driver's: an operational one in a generic
translated frame, any other (an integrity error, a syntax error) is a bug and keeps its traceback.
"""

from __future__ import annotations

import re
import sqlite3
from typing import NamedTuple

from sqlalchemy import exc as sa

from socialcredit import i18n
from socialcredit.i18n import N_, Text, fill


class Cause(NamedTuple):
    """What most likely happened, and what the reader can do about it."""

    cause: Text
    todo: Text


LOCKED = Cause(
    N_("another process is writing to the database (a running serve, demo or ingest)"),
    N_("Wait for it to finish, or stop it, then run the command again."),
)
CANNOT_OPEN = Cause(
    N_("the database file cannot be opened: its folder is missing, is not a folder, or may not be written"),
    N_("Check SOCIALCREDIT_DATABASE_URL and SOCIALCREDIT_HOME, and the folder's permissions."),
)
DAMAGED = Cause(
    N_("the database file is damaged or is not a SQLite database"),
    N_(
        "Check that SOCIALCREDIT_DATABASE_URL names the right file; else restore the last backup "
        "into an empty database (`socialcredit restore`)."
    ),
)
DISK_IO = Cause(
    N_("the disk failed to read or write the database"),
    N_("Check the disk (its space, its health, a network mount), then run the command again."),
)
DISK_FULL = Cause(
    N_("the disk holding the database is full"),
    N_("Free some space, then run the command again."),
)
READ_ONLY = Cause(
    N_("the database may only be read (the file, its folder or the disk is read-only)"),
    N_("Give this user write permission on the file and its folder."),
)
NOT_SET_UP = Cause(
    N_("the database is not set up for this release (a table or a column is missing)"),
    N_(
        "See `socialcredit db status`: run `socialcredit db upgrade` if an upgrade is due, else "
        "restore the last backup into an empty database (`socialcredit restore`)."
    ),
)
REFUSED = Cause(
    N_("no database server answers at this address"),
    N_("Start PostgreSQL, or correct the host and port in SOCIALCREDIT_DATABASE_URL."),
)
NO_HOST = Cause(
    N_("the database server's host name is not known"),
    N_("Correct the host in SOCIALCREDIT_DATABASE_URL."),
)
BAD_LOGIN = Cause(
    N_("the database server refused the user name or the password"),
    N_("Correct the user and the password in SOCIALCREDIT_DATABASE_URL."),
)
NO_DATABASE = Cause(
    N_("the database named in the address does not exist on the server"),
    N_("Create it (createdb), or correct its name in SOCIALCREDIT_DATABASE_URL."),
)
NO_CONNECTION_LEFT = Cause(
    N_("the database server has no connection left"),
    N_("Stop the commands and servers you do not need, or raise max_connections, then try again."),
)
NO_ANSWER = Cause(
    N_("the database server did not answer in time"),
    N_("Check that it is running and reachable, then try again."),
)
STARTING = Cause(
    N_("the database server is starting up or shutting down"),
    N_("Wait a moment, then try again."),
)
CONFLICT = Cause(
    N_("another transaction held what this one needed"),
    N_("Run the command again."),
)

BY_SQLITE = {
    "SQLITE_BUSY": LOCKED,
    "SQLITE_LOCKED": LOCKED,
    "SQLITE_CANTOPEN": CANNOT_OPEN,
    "SQLITE_NOTADB": DAMAGED,
    "SQLITE_CORRUPT": DAMAGED,
    "SQLITE_IOERR": DISK_IO,
    "SQLITE_FULL": DISK_FULL,
    "SQLITE_READONLY": READ_ONLY,
}
"""SQLite's primary error names (an extended one, ``SQLITE_IOERR_SHORT_READ``, by its primary)."""

BY_SQLSTATE = {
    "42P01": NOT_SET_UP,  # undefined_table
    "42703": NOT_SET_UP,  # undefined_column
    "28P01": BAD_LOGIN,  # invalid_password
    "28000": BAD_LOGIN,  # invalid_authorization_specification
    "3D000": NO_DATABASE,  # invalid_catalog_name
    "53300": NO_CONNECTION_LEFT,  # too_many_connections
    "53100": DISK_FULL,  # disk_full
    "58030": DISK_IO,  # io_error
    "57P03": STARTING,  # cannot_connect_now
    "57P01": STARTING,  # admin_shutdown
    "40P01": CONFLICT,  # deadlock_detected
    "40001": CONFLICT,  # serialization_failure
    "55P03": CONFLICT,  # lock_not_available
    "57014": NO_ANSWER,  # query_canceled (a statement timeout)
}
"""PostgreSQL's SQLSTATE codes a command can meet that are the installation's, not a bug."""

BY_WORDS = tuple(
    (re.compile(words), found)
    for words, found in (
        ("database is locked", LOCKED),
        ("unable to open database file", CANNOT_OPEN),
        ("file is not a database|disk image is malformed", DAMAGED),
        ("disk i/o error", DISK_IO),
        ("database or disk is full", DISK_FULL),
        ("readonly database", READ_ONLY),
        ("no such (table|column)", NOT_SET_UP),
        ("connection refused", REFUSED),
        ("could not translate host name|failed to resolve host|name or service not known", NO_HOST),
        ("password authentication failed", BAD_LOGIN),
        ('database ".*" does not exist', NO_DATABASE),
        ("too many clients", NO_CONNECTION_LEFT),
        ("timeout expired", NO_ANSWER),
        ("the database system is (starting up|shutting down)", STARTING),
    )
)
"""The driver's own words (lower case), for an error that carries no code (psycopg's failure to
connect, SQLite's before Python gave its error names)."""

SAID = N_("{cause}. {todo} (the database said: {detail})")
"""The line: the likely cause and what to do, then the driver's text for support."""
FAILED = N_("the database failed (the database said: {detail})")
"""An operational error we do not know: the driver's text in our frame."""


def driver_error(exc: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrapper (``DBAPIError.orig``)."""
    if isinstance(exc, sa.DBAPIError) and isinstance(exc.orig, BaseException):
        return exc.orig
    return exc


def detail(exc: BaseException) -> str:
    """The driver's text, whole lines folded into one, without SQLAlchemy's statement and link."""
    return " ".join(str(driver_error(exc)).split())


def cause(exc: BaseException) -> Cause | None:
    """The likely cause of a database error, by its code where the driver gives one, else by its
    words; None when it is not known."""
    orig = driver_error(exc)
    name = getattr(orig, "sqlite_errorname", None) if isinstance(orig, sqlite3.Error) else None
    if isinstance(name, str):
        known = BY_SQLITE.get(name) or BY_SQLITE.get("_".join(name.split("_")[:2]))
        if known is not None:
            return known
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state in BY_SQLSTATE:
        return BY_SQLSTATE[state]
    text = str(orig).lower()
    return next((found for words, found in BY_WORDS if words.search(text)), None)


def operational(exc: BaseException) -> bool:
    """Whether ``exc`` is a database's failure to do what it was asked (SQLAlchemy's or a
    driver's ``OperationalError``), the installation's state rather than a bug of ours. SQLite's
    generic ``SQLITE_ERROR`` (a syntax error, a missing function) is an ``OperationalError`` in
    sqlite3 but a bug of the statement."""
    orig = driver_error(exc)
    if getattr(orig, "sqlite_errorname", None) == "SQLITE_ERROR":
        return False
    return isinstance(exc, sa.OperationalError) or type(orig).__name__ == "OperationalError"


def database_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a database driver (through SQLAlchemy or straight)."""
    orig = driver_error(exc)
    return isinstance(exc, sa.DBAPIError) or isinstance(orig, sqlite3.Error) or hasattr(orig, "sqlstate")


def worded(exc: BaseException) -> str | None:
    """A database error as a line in the reader's language, or None when it is not ours to word
    (not a database's, or one we do not know that is not operational: a bug, kept as one)."""
    if not database_error(exc):
        return None
    found = cause(exc)
    if found is not None:
        return i18n.translate(fill(SAID, cause=found.cause, todo=found.todo, detail=detail(exc)))
    if operational(exc):
        return i18n.translate(fill(FAILED, detail=detail(exc)))
    return None
