"""HTTP adapter: a FastAPI app over :class:`socialcredit.service.System`.

``create_app`` is imported on first use: the command line prints its ``--json`` answers through
this package's models (:mod:`.models`, :mod:`.reports`), and needs the web framework only to
serve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialcredit.api.app import create_app
else:

    def __getattr__(name: str) -> Any:
        if name == "create_app":
            from socialcredit.api.app import create_app

            return create_app
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app"]
