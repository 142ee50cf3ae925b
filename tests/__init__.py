"""The test suite, a package so that tests import their shared helpers as ``tests.support``.

pytest imports this package before ``tests/conftest.py`` and every test module, so it is where the
suite keeps bytecode even where the shell sets ``PYTHONDONTWRITEBYTECODE=1`` (these sessions do).
Without it each xdist worker compiles every module of ours and pytest rewrites every test module
again on each run, and each CLI process a test starts compiles the package again: about 7.5 s of CPU
per worker before its first test (decision 0093). The files go to the usual ``__pycache__``
folders, which git ignores; the packages pip installed were compiled when it installed them.
"""

import os
import sys

sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def _leave_without_finalising() -> None:
    """A pytest-xdist worker's last act: flush its output and leave at once. Why: its report went
    to the controller before it got here, and the controller waits for the process to end before
    its own summary, while finalising a worker's heap (apps, worlds, engines cached per process)
    took about 1.5 to 3 s at the end of every loop (decision 0106). Registered first, so every
    other exit handler (the session home's removal, libraries' own) has run before it."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    import atexit

    atexit.register(_leave_without_finalising)
