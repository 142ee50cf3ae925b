"""socialcredit: an open, auditable social credit system.

The core (codes, schemes, ledger, scoring, lists, decisions, access) is plain Python over plain
data and imports no adapter; the adapters (store, api, cli) sit around it.
"""

__version__ = "0.1.0"
