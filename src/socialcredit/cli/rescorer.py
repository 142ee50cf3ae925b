"""The installation's public rescorer: one process of its own that rescores the public pages and
writes the snapshot every worker of ``serve`` follows (docs/decisions/0087-one-public-rescore.md).

Why a process: in a worker, the rescore (tens of seconds at 100,000 residents, after a start and
after midnight) shared the GIL with that worker's requests, and each of N workers scanned the same
population. ``serve`` starts this process whatever its ``--workers``, and starts it again if it
ends (killed, or failed); the process takes the rescorer's lock (``store/rescorelock.py``), so
several ``serve`` processes on one database rescore once between them, and ends with its parent.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

log = logging.getLogger(__name__)

RESTART_S = 1.0
"""Seconds before a rescorer that ended is started again."""
LOCK_POLL_S = 2.0
"""Seconds between tries for the lock another process holds (another ``serve`` rescoring)."""
PARENT_POLL_S = 1.0
"""Seconds between looks at whether the ``serve`` that started the rescorer is still there."""


class Rescorer:
    """Supervises the rescorer process from ``serve``: a daemon thread that starts it, waits for
    it, and starts it again :data:`RESTART_S` after it ends, until :meth:`stop`."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="public-rescorer", daemon=True)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Rescorer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(10)

    def _supervise(self) -> None:
        # a fresh interpreter (no state of serve's), named in its command line; -P: not the
        # current directory first on the path
        command = [sys.executable, "-P", "-c", BOOT, str(os.getpid())]
        while not self._stop.is_set():
            proc = self.process = subprocess.Popen(command)
            while proc.poll() is None:
                if self._stop.wait(0.5):
                    return
            log.warning("public rescorer (pid %s) ended (%s); starting again", proc.pid, proc.returncode)
            self._stop.wait(RESTART_S)


BOOT = f"""import os, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while os.getppid() == parent:
        time.sleep({PARENT_POLL_S})
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from {__name__} import run
run()
"""
"""The rescorer process's program. Its parent's watch is started first, with the standard library
alone: importing the application takes seconds on a loaded machine, and a ``serve`` killed
meanwhile must not leave its rescorer behind. When ``serve`` is gone (even killed), the rescorer
ends at once, even mid-scan: a write under way is one transaction, rolled back, and the lock is
released with the process."""


def run() -> None:
    """The rescorer process: open the installation from the environment as a worker does, wait for
    the rescorer's lock, then keep the public pages (``Disclosure.keep``) for good (:data:`BOOT`
    ends it with its parent)."""
    from socialcredit.cli.common import open_system
    from socialcredit.store.rescorelock import rescorer_lock

    logging.basicConfig(stream=sys.stderr, format="%(asctime)s %(process)d %(name)s: %(message)s")
    for name in (__name__, "socialcredit.service.disclosure"):  # each full rescore, one line
        logging.getLogger(name).setLevel(logging.INFO)
    stop = threading.Event()  # never set: the process ends with its parent (BOOT)
    system = open_system()
    lock = rescorer_lock(system.store)
    try:
        while not lock.try_acquire():  # another serve's rescorer is rescoring this installation
            if stop.wait(LOCK_POLL_S):
                return
        log.info("public rescorer started (pid %d)", os.getpid())
        system.disclosure.keep(stop)
    finally:
        lock.release()
        system.store.close()
