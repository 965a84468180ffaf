"""Conversations, turns and feedback, through SQLAlchemy (SQLite by default, PostgreSQL by URL)."""

from supportgraph.store import (  # noqa: F401  (register their tables before any create_all)
    api_models,
    experiments,
    handoffs,
    kb_edits,
    kb_index,
    sessions,
)
from supportgraph.store.repository import FeedbackIn, Store, TurnRecord

__all__ = ["FeedbackIn", "Store", "TurnRecord"]
