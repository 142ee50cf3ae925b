"""HTTP adapter: a FastAPI app over :class:`socialcredit.service.System`."""

from socialcredit.api.app import create_app

__all__ = ["create_app"]
