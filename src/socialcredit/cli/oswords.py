"""The system's reason in a command's line ("cannot read FILE: <reason>"), in the reader's language
where we know it (decision 0084).

Why: the frame of such a line is ours and translated (``CANNOT_READ``...), but the reason after
it is the operating system's, a JSON parser's or a codec's, worded in English by them. The
operating-system reasons are known by their ``errno``, whatever the system's locale, so they are
translated by it (every one a command line can meet, decision 0095); any other ``errno`` is
named in a translated frame, the system's own words after it. A JSON parser's or a codec's
error keeps its own words inside a translated frame naming where it is. A reason with no
number is quoted as the system gave it: a guess at translating it would be worse than its own
words.
"""

from __future__ import annotations

import errno
import json
import urllib.error

from rich.markup import escape

from socialcredit import i18n
from socialcredit.i18n import N_, fill

BY_ERRNO = {
    errno.EPERM: N_("operation not permitted"),
    errno.ENOENT: N_("no such file or directory"),
    errno.ESRCH: N_("no such process"),
    errno.EINTR: N_("interrupted system call"),
    errno.EIO: N_("input/output error"),
    errno.ENXIO: N_("no such device or address"),
    errno.E2BIG: N_("argument list too long"),
    errno.ENOEXEC: N_("exec format error"),
    errno.EBADF: N_("bad file descriptor"),
    errno.ECHILD: N_("no child processes"),
    errno.EAGAIN: N_("resource temporarily unavailable"),
    errno.ENOMEM: N_("cannot allocate memory"),
    errno.EACCES: N_("permission denied"),
    errno.EFAULT: N_("bad address"),
    errno.EBUSY: N_("device or resource busy"),
    errno.EEXIST: N_("file exists"),
    errno.EXDEV: N_("invalid cross-device link"),
    errno.ENODEV: N_("no such device"),
    errno.ENOTDIR: N_("not a directory"),
    errno.EISDIR: N_("is a directory"),
    errno.EINVAL: N_("invalid argument"),
    errno.ENFILE: N_("too many open files in system"),
    errno.EMFILE: N_("too many open files"),
    errno.ENOTTY: N_("inappropriate ioctl for device"),
    errno.ETXTBSY: N_("text file busy"),
    errno.EFBIG: N_("file too large"),
    errno.ENOSPC: N_("no space left on device"),
    errno.ESPIPE: N_("illegal seek"),
    errno.EROFS: N_("read-only file system"),
    errno.EMLINK: N_("too many links"),
    errno.EPIPE: N_("broken pipe"),
    errno.ERANGE: N_("numerical result out of range"),
    errno.EDEADLK: N_("resource deadlock avoided"),
    errno.ENAMETOOLONG: N_("file name too long"),
    errno.ENOLCK: N_("no locks available"),
    errno.ENOSYS: N_("function not implemented"),
    errno.ENOTEMPTY: N_("directory not empty"),
    errno.ELOOP: N_("too many levels of symbolic links"),
    errno.EOVERFLOW: N_("value too large for defined data type"),
    errno.EILSEQ: N_("invalid or incomplete multibyte or wide character"),
    errno.EPROTO: N_("protocol error"),
    errno.EBADMSG: N_("bad message"),
    errno.ENOTSOCK: N_("socket operation on non-socket"),
    errno.EMSGSIZE: N_("message too long"),
    errno.EPROTONOSUPPORT: N_("protocol not supported"),
    errno.EOPNOTSUPP: N_("operation not supported"),
    errno.EAFNOSUPPORT: N_("address family not supported by protocol"),
    errno.EADDRINUSE: N_("address already in use"),
    errno.EADDRNOTAVAIL: N_("cannot assign requested address"),
    errno.ENETDOWN: N_("network is down"),
    errno.ENETUNREACH: N_("network is unreachable"),
    errno.ENETRESET: N_("network dropped connection on reset"),
    errno.ECONNABORTED: N_("software caused connection abort"),
    errno.ECONNRESET: N_("connection reset by peer"),
    errno.ENOBUFS: N_("no buffer space available"),
    errno.EISCONN: N_("transport endpoint is already connected"),
    errno.ENOTCONN: N_("transport endpoint is not connected"),
    errno.ESHUTDOWN: N_("cannot send after transport endpoint shutdown"),
    errno.ETIMEDOUT: N_("connection timed out"),
    errno.ECONNREFUSED: N_("connection refused"),
    errno.EHOSTDOWN: N_("host is down"),
    errno.EHOSTUNREACH: N_("no route to host"),
    errno.EALREADY: N_("operation already in progress"),
    errno.EINPROGRESS: N_("operation now in progress"),
    errno.ESTALE: N_("stale file handle"),
    errno.EDQUOT: N_("disk quota exceeded"),
    errno.ECANCELED: N_("operation canceled"),
    errno.EREMOTEIO: N_("remote i/o error"),
    errno.ENOMEDIUM: N_("no medium found"),
}
"""Every reason of the ``errno`` module a command line can meet on Linux (a file, a directory,
a disk, a pipe, a socket, a process, a lock), by the number that names it on every system,
worded as the C library words it; EAGAIN and EWOULDBLOCK, EOPNOTSUPP and ENOTSUP are one
number each."""

OTHER_ERRNO = N_("system error {name} ({number}): {detail}")
"""Any other ``errno``: our frame naming it, the system's own words after it for support."""
TIMED_OUT = N_("timed out")
"""A timeout raised with no ``errno`` (a socket's, a URL's)."""

CANNOT_READ = N_("cannot read {path}: {problem}")
CANNOT_WRITE = N_("cannot write {path}: {problem}")
"""A file a command was given that it cannot read or write (``fill`` them: the path, and the
system's reason, worded by :func:`problem`)."""

NOT_JSON = N_("not JSON: line {line}, column {column}: {detail}")
NOT_UTF8 = N_("not UTF-8 text: byte {position}: {detail}")


def problem(exc: BaseException) -> str:
    """Why ``exc`` was raised, in the reader's language as far as it can be: an operating-system
    error by its ``errno`` (any number we do not word named in a frame, its own words kept), a JSON
    parser's or a codec's error framed with where it is (its own words kept), a URL error by the
    error under it; anything else as its ``str``."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return problem(exc.reason)
    if isinstance(exc, OSError) and not isinstance(exc, urllib.error.URLError):
        known = BY_ERRNO.get(exc.errno or 0)
        if known is not None:
            return i18n.translate(known)
        if exc.errno:
            name = errno.errorcode.get(exc.errno, "?")
            detail = exc.strerror or str(exc)
            return i18n.translate(fill(OTHER_ERRNO, name=name, number=exc.errno, detail=detail))
        if isinstance(exc, TimeoutError):
            return i18n.translate(TIMED_OUT)
        if len(exc.args) == 1:  # raised by us with a message of ours
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
