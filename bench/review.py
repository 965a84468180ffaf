"""The review loop at scale (not a test): how long the review pages and commands take over a
store with many conversations. Prints figures for docs/benchmarks.md.

    .venv/bin/python bench/review.py [--conversations 5000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from supportgraph.agents.brief import load_brief
from supportgraph.review.backlog import build_backlog
from supportgraph.review.stats import dashboard_stats
from supportgraph.review.transcripts import TranscriptFilter, list_conversations, review_queue
from supportgraph.review.weekly import weekly_review
from supportgraph.store import FeedbackIn, Store, TurnRecord
from supportgraph.store.models import Conversation, ConversationTag, Turn

REPO = Path(__file__).resolve().parent.parent
OUTCOMES = ["answered"] * 6 + ["clarify", "escalated", "resolved", "refused"]


def fill(store: Store, brief, conversations: int, days: int = 28) -> None:
    """Conversations of 1-3 turns spread over ``days``; 30% rated, 10% of the flagged ones tagged."""
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    tags = [t.id for t in brief.review.tags]
    for n in range(conversations):
        thread, at = f"bench-{n}", now - dt.timedelta(minutes=rng.randrange(days * 24 * 60))
        for _ in range(rng.randint(1, 3)):
            outcome = rng.choice(OUTCOMES)
            turn_id = store.record_turn(thread, TurnRecord(
                customer_message="My invoice is wrong", reply="1. Open Billing.", summary="Invoice is wrong.",
                outcome=outcome, retrieved=[{"id": f"a{rng.randrange(60)}", "score": rng.random()}],
                citations=[{"id": f"a{rng.randrange(60)}", "title": "t"}], confidence=rng.random(),
                latency_ms=rng.lognormvariate(6, 1), trace={"nodes": [{"node": "retrieve", "ms": 30.0}]}))
            if rng.random() < 0.3:
                store.save_feedback(FeedbackIn(turn_id=turn_id, thumb=rng.choice(["up", "down"]),
                                               stars=rng.randint(1, 5)))
        with store.session() as session, session.begin():
            session.get(Conversation, thread).created_at = at
            for turn in session.get(Conversation, thread).turns:
                turn.created_at = at
            if outcome in ("escalated", "refused") and rng.random() < 0.1:
                session.add(ConversationTag(conversation_id=thread, tag=rng.choice(tags), reviewer="bench",
                                            created_at=at))


def timed(label: str, work) -> None:
    started = time.perf_counter()
    result = work()
    size = len(result) if hasattr(result, "__len__") else ""
    print(f"{label:<42} {1000 * (time.perf_counter() - started):8.0f} ms  {size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    brief = load_brief(REPO / "agents" / "support" / "brief.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(args.database_url or f"sqlite:///{tmp}/bench.db")
        started = time.perf_counter()
        fill(store, brief, args.conversations)
        with store.session() as session:
            turns = session.query(Turn).count()
        print(f"{args.conversations} conversations, {turns} turns over 4 weeks "
              f"({store.engine.dialect.name}), filled in {time.perf_counter() - started:.0f} s")
        now = dt.datetime.now(dt.UTC)
        week = now - dt.timedelta(days=7)
        timed("transcripts, last 7 days (all filters off)",
              lambda: list_conversations(store, brief, TranscriptFilter(since=week, limit=None)))
        timed("transcripts, last 7 days, flag=slow",
              lambda: list_conversations(store, brief, TranscriptFilter(since=week, flag="slow", limit=None)))
        timed("review queue, last 30 days", lambda: review_queue(store, brief, now - dt.timedelta(days=30), 50))
        timed("weekly review (this week vs last)", lambda: weekly_review(store, brief, now.date()).needs_review)
        timed("backlog, last 7 days", lambda: build_backlog(store, brief, week, "http://localhost:8501"))
        timed("dashboard stats, last 30 days",
              lambda: dashboard_stats(store, brief, now - dt.timedelta(days=30)).days)


if __name__ == "__main__":
    main()
