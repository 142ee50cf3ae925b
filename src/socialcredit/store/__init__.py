"""Storage adapter: SQLAlchemy over the embedded default (SQLite) or PostgreSQL.

The core never imports this package; the service layer hands the core plain records read here.
"""

from socialcredit.store.audit import AuditQuery
from socialcredit.store.sql import DocumentLink, Store, StoredKey, default_url
from socialcredit.subjects import SubjectRow

__all__ = ["AuditQuery", "DocumentLink", "Store", "StoredKey", "SubjectRow", "default_url"]
