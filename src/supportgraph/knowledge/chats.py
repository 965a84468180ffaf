"""Recent resolved chats as a third retrieval source.

A conversation that ended resolved with positive feedback records which
article fixed which issue. Only that is indexed: the customers' own words,
redacted, and the resolving article's id, in a collection of their own. At
query time a similar resolved chat lends its article a boost weighted below
the articles' own scores, and the answer cites it as "similar resolved
conversations", never by showing another customer's transcript.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from supportgraph.config import Settings
from supportgraph.knowledge.embedding import Embedder
from supportgraph.knowledge.index import get_collection, open_chroma
from supportgraph.privacy import redact
from supportgraph.store import Store

CHATS_COLLECTION_SUFFIX = "-resolved-chats"


@dataclass(frozen=True)
class ResolvedChat:
    id: str
    text: str            # the customer's messages about the issue, redacted
    article_id: str      # the article whose steps resolved it
    resolved_at: str


def chats_collection(settings: Settings):
    return get_collection(open_chroma(settings), settings.collection + CHATS_COLLECTION_SUFFIX)


def resolved_chats(store: Store, since_days: int = 90) -> list[ResolvedChat]:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=since_days)
    chats = []
    for conversation in store.resolved_conversations(since):
        answered = [t for t in conversation.turns if t.outcome == "answered" and t.citations]
        if not answered:
            continue
        fix = answered[-1]  # the answer the customer then confirmed
        issue_turns = [t for t in conversation.turns if t.id <= fix.id and t.outcome in ("answered", "clarify")]
        text = redact(" ".join(t.customer_message for t in issue_turns))[0]
        chats.append(ResolvedChat(id=f"chat-{conversation.id[:16]}", text=text, article_id=fix.citations[0]["id"],
                                  resolved_at=conversation.updated_at.date().isoformat()))
    return chats


def index_chats(settings: Settings, embedder: Embedder, store: Store, since_days: int = 90) -> int:
    """Make the chats collection hold exactly the qualifying chats; return how many."""
    collection = chats_collection(settings)
    chats = resolved_chats(store, since_days)
    wanted = {c.id for c in chats}
    present = set(collection.get(include=[])["ids"])
    stale = sorted(present - wanted)  # older than the window, or no longer resolved
    if stale:
        collection.delete(ids=stale)
    new = [c for c in chats if c.id not in present]  # a resolved chat does not change: embed it once
    if new:
        collection.add(ids=[c.id for c in new], embeddings=embedder.embed([c.text for c in new]).tolist(),
                       documents=[c.text for c in new],
                       metadatas=[{"article_id": c.article_id, "resolved_at": c.resolved_at} for c in new])
    return len(chats)
