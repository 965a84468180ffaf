"""Confirmed writes survive the writing process being killed (kill -9), on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import supportgraph
from supportgraph.store import FeedbackIn, Store, TurnRecord
from supportgraph.store.models import Conversation, Feedback, Turn
from tests.integration.store_writer import feedback_values

pytestmark = pytest.mark.integration

WRITER = Path(__file__).with_name("store_writer.py")
KILL_AFTER = 25  # confirmed feedback before the SIGKILL


def _write_then_kill(url: str) -> tuple[dict[int, int], dict[int, int]]:
    """Run the writer, SIGKILL it mid-stream; the turns and feedback it had confirmed, as {i: turn id}."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(supportgraph.__file__).parents[1]), str(WRITER.parents[2]), os.environ.get("PYTHONPATH", "")]))
    writer = subprocess.Popen([sys.executable, str(WRITER), url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    watchdog = threading.Timer(120, writer.kill)
    watchdog.start()
    confirmed: dict[str, dict[int, int]] = {"turn": {}, "feedback": {}}
    try:
        for line in writer.stdout:
            kind, i, turn_id = line.split()
            confirmed[kind][int(i)] = int(turn_id)
            if len(confirmed["feedback"]) == KILL_AFTER:
                writer.send_signal(signal.SIGKILL)  # it is already writing the next turn
                break
    finally:
        watchdog.cancel()
        writer.kill()
        writer.wait()
        stderr = writer.stderr.read()
        writer.stdout.close()
        writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL, f"the writer ended by itself ({writer.returncode}): {stderr}"
    assert len(confirmed["feedback"]) == KILL_AFTER, stderr
    return confirmed["turn"], confirmed["feedback"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_confirmed_turns_and_feedback_survive_kill_9(backend, new_database):
    url = new_database(backend)
    Store(url).engine.dispose()  # the schema exists before the writer starts
    turns, feedback = _write_then_kill(url)

    store = Store(url)
    with store.session() as session:
        for i, turn_id in turns.items():
            turn = session.get(Turn, turn_id)
            assert turn is not None and (turn.customer_message, turn.trace) == (f"message {i}", {"i": i})
    for i, turn_id in feedback.items():
        row = store.feedback_for(turn_id)
        assert row is not None and (row.thumb, row.stars, row.comment) == feedback_values(i)

    with store.session() as session:  # confirmed or not, whatever was kept is whole and related
        kept = sorted(int(message.split()[-1]) for message in session.scalars(select(Turn.customer_message)))
        assert kept == list(range(len(kept))) and len(kept) >= len(turns)  # no hole, nothing confirmed lost
        orphans = select(func.count()).select_from(Feedback).outerjoin(Turn).where(Turn.id.is_(None))
        assert session.scalar(orphans) == 0
        lost = select(func.count()).select_from(Turn).outerjoin(Conversation).where(Conversation.id.is_(None))
        assert session.scalar(lost) == 0
        for row in session.scalars(select(Feedback)):
            i = int(session.get(Turn, row.turn_id).customer_message.split()[-1])
            thumb, stars, comment = feedback_values(i)
            assert row.thumb == thumb and (row.stars, row.comment) in ((None, None), (stars, comment))
        if backend == "sqlite":
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []

    new_turn = store.record_turn("after-the-crash", TurnRecord(customer_message="hi", reply="hello",
                                                               outcome="answered"))
    store.save_feedback(FeedbackIn(turn_id=new_turn, thumb="up", stars=5))
    assert (store.feedback_for(new_turn).thumb, store.feedback_for(new_turn).stars) == ("up", 5)
    store.engine.dispose()
