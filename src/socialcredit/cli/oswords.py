"""The system's reason in a command's line ("cannot read FILE: <reason>"), in the reader's language
where we know it (decision 0084).

Why: the frame of such a line is ours and translated (``CANNOT_READ``...), but the reason after
it is the operating system's, a JSON parser's or a codec's, worded in English by them. The
common operating-system reasons are known by their ``errno``, whatever the system's locale, so
they are translated by it; a JSON parser's or a codec's error keeps its own words inside a
translated frame naming where it is. Any other reason is quoted as the system gave it (the
README says so): a guess at translating it would be worse than its own words.
"""

from __future__ import annotations

import errno
import json
import urllib.error

from rich.markup import escape

from socialcredit import i18n
from socialcredit.i18n import N_, fill

BY_ERRNO = {
    errno.ENOENT: N_("no such file or directory"),
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("operation not permitted"),
    errno.EISDIR: N_("is a directory"),
    errno.ENOTDIR: N_("not a directory"),
    errno.EEXIST: N_("file exists"),
    errno.ENOSPC: N_("no space left on device"),
    errno.EROFS: N_("read-only file system"),
    errno.EADDRINUSE: N_("address already in use"),
    errno.ECONNREFUSED: N_("connection refused"),
}
"""The reasons a command meets most (a file not there, not allowed, a directory; a disk full; a
port taken; a log not answering), by the number that names them on every system."""

CANNOT_READ = N_("cannot read {path}: {problem}")
CANNOT_WRITE = N_("cannot write {path}: {problem}")
"""A file a command was given that it cannot read or write (``fill`` them: the path, and the
system's reason, worded by :func:`problem`)."""

NOT_JSON = N_("not JSON: line {line}, column {column}: {detail}")
NOT_UTF8 = N_("not UTF-8 text: byte {position}: {detail}")


def problem(exc: BaseException) -> str:
    """Why ``exc`` was raised, in the reader's language as far as it can be: an operating-system
    error by its ``errno`` (its own message where the number is not one we word), a JSON
    parser's or a codec's error framed with where it is (its own words kept), a URL error by the
    error under it; anything else as its ``str``."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return problem(exc.reason)
    if isinstance(exc, OSError) and not isinstance(exc, urllib.error.URLError):
        known = BY_ERRNO.get(exc.errno or 0)
        if known is not None:
            return i18n.translate(known)
        if exc.errno is None and len(exc.args) == 1:  # raised by us with a message of ours
            return i18n.translate(exc.args[0])
        return exc.strerror or str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return i18n.translate(fill(NOT_JSON, line=exc.lineno, column=exc.colno, detail=exc.msg))
    if isinstance(exc, UnicodeDecodeError):
        return i18n.translate(fill(NOT_UTF8, position=exc.start, detail=exc.reason))
    return str(exc)


def cannot(frame: str, path: object, exc: BaseException) -> str:
    """A line of a file a command cannot use: our ``frame`` (``CANNOT_READ``, ``CANNOT_WRITE``)
    in the reader's language around the path and the system's reason, rich markup escaped."""
    return escape(i18n.translate(fill(frame, path=str(path), problem=problem(exc))))
