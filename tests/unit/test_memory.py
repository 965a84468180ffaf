"""Memory and transcript agree: each turn names its checkpoint, and a turn whose memory was written but
whose transcript was not is rolled back before the thread's next turn. Thread claims on both backends."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import update

from supportgraph.agents.memory import Memory, forget_thread, prune_memory, reconcile_all, reconcile_thread
from supportgraph.errors import ThreadBusyError
from supportgraph.store import FeedbackIn
from supportgraph.store.api_models import ThreadClaim
from supportgraph.store.threads import claim_thread, new_owner, release_claim, renew_claim, thread_busy

pytestmark = pytest.mark.unit


class LostTranscript(Exception):
    """Stands for the process dying between the memory write and the transcript write."""


def _lose_next_transcript(agent, monkeypatch):
    def fail(*args, **kwargs):
        raise LostTranscript
    monkeypatch.setattr(agent.store, "record_turn", fail)


def test_each_turn_names_the_single_checkpoint_it_ended_on(unit_agent):
    first = unit_agent.ask("My app is not syncing")
    second = unit_agent.ask("iPhone", thread_id=first.thread_id)
    turns = unit_agent.store.conversation(first.thread_id).turns
    assert [t.outcome for t in turns] == ["clarify", "answered"]
    memory = unit_agent.memory
    assert memory.count(first.thread_id) == 2  # one checkpoint per turn, not one per step
    assert turns[-1].checkpoint_id == memory.latest_id(second.thread_id)
    assert turns[0].checkpoint_id < turns[1].checkpoint_id


def test_a_turn_lost_between_memory_and_transcript_is_rolled_back_and_answered_again(unit_agent, monkeypatch):
    first = unit_agent.ask("My app is not syncing")
    assert first.outcome == "clarify"
    with monkeypatch.context() as patch:
        _lose_next_transcript(unit_agent, patch)
        with pytest.raises(LostTranscript):
            unit_agent.ask("iPhone", thread_id=first.thread_id)
    memory = unit_agent.memory
    recorded = unit_agent.store.conversation(first.thread_id).turns[-1].checkpoint_id
    assert memory.latest_id(first.thread_id) > recorded  # memory is one turn ahead of the transcript
    assert not thread_busy(unit_agent.store, first.thread_id)  # the claim was released on the way out

    again = unit_agent.ask("iPhone", thread_id=first.thread_id)  # the customer's retry
    assert again.outcome == "answered" and again.citations[0].id == "ts-sync"
    turns = unit_agent.store.conversation(first.thread_id).turns
    assert [t.outcome for t in turns] == ["clarify", "answered"]
    assert memory.count(first.thread_id) == 2 and memory.latest_id(first.thread_id) == turns[-1].checkpoint_id


def test_memory_of_a_first_turn_never_recorded_is_dropped(unit_agent, monkeypatch):
    with monkeypatch.context() as patch:
        _lose_next_transcript(unit_agent, patch)
        with pytest.raises(LostTranscript):
            unit_agent.ask("My app is not syncing", thread_id="lost-first-turn")
    assert unit_agent.memory.latest_id("lost-first-turn") is not None
    assert reconcile_all(unit_agent.memory, unit_agent.store) == {"lost-first-turn": "dropped"}
    assert unit_agent.memory.latest_id("lost-first-turn") is None
    assert reconcile_thread(unit_agent.memory, unit_agent.store, "lost-first-turn") == "ok"


def test_forgetting_a_thread_deletes_transcript_and_memory(unit_agent):
    kept = unit_agent.ask("I was charged twice this month")
    gone = unit_agent.ask("I was charged twice this month")
    unit_agent.store.save_feedback(FeedbackIn(turn_id=gone.turn_id, thumb="up"))
    assert forget_thread(unit_agent.memory, unit_agent.store, gone.thread_id)
    assert unit_agent.store.conversation(gone.thread_id) is None
    assert unit_agent.memory.latest_id(gone.thread_id) is None
    assert unit_agent.memory.latest_id(kept.thread_id) is not None
    assert not forget_thread(unit_agent.memory, unit_agent.store, gone.thread_id)


def test_retention_deletes_idle_conversations_and_keeps_one_checkpoint_of_the_others(unit_agent):
    from supportgraph.store.models import Turn

    old = unit_agent.ask("My app is not syncing")
    unit_agent.ask("iPhone", thread_id=old.thread_id)
    recent = unit_agent.ask("My app is not syncing")
    unit_agent.ask("Android", thread_id=recent.thread_id)
    with unit_agent.store.session() as session, session.begin():
        session.execute(update(Turn).where(Turn.conversation_id == old.thread_id)
                        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=100)))
    dry = prune_memory(unit_agent.memory, unit_agent.store, dt.timedelta(days=90), dry_run=True)
    assert dry.deleted == [old.thread_id] and unit_agent.store.conversation(old.thread_id) is not None

    report = prune_memory(unit_agent.memory, unit_agent.store, dt.timedelta(days=90))
    assert report.deleted == [old.thread_id] and report.pruned == 1 and report.busy == []
    assert unit_agent.store.conversation(old.thread_id) is None and unit_agent.memory.latest_id(old.thread_id) is None
    assert unit_agent.memory.count(recent.thread_id) == 1
    # The one kept is the recorded one, and the conversation goes on from it.
    assert unit_agent.memory.latest_id(recent.thread_id) == \
        unit_agent.store.conversation(recent.thread_id).turns[-1].checkpoint_id
    follow_up = unit_agent.ask("it still fails", thread_id=recent.thread_id)
    assert follow_up.outcome in ("answered", "escalated")


def test_a_second_turn_on_a_busy_thread_is_refused_and_waits_when_asked(unit_agent):
    first = unit_agent.ask("I was charged twice this month")
    store = unit_agent.store
    other = new_owner()
    assert claim_thread(store, first.thread_id, other, 60) == 0.0
    with pytest.raises(ThreadBusyError) as busy:
        unit_agent.ask("thanks", thread_id=first.thread_id)
    assert 55 < busy.value.retry_after_s <= 60 and "wait for that reply" in busy.value.fix
    with pytest.raises(ThreadBusyError):
        list(unit_agent.ask_stream("thanks", thread_id=first.thread_id, wait_s=0.3))
    release_claim(store, first.thread_id, other)
    assert unit_agent.ask("thanks", thread_id=first.thread_id).turn_id > first.turn_id


def test_claims_expire_and_a_dead_process_s_claim_is_taken_over(any_store):
    assert claim_thread(any_store, "t", "a:1:x", 60) == 0.0
    assert claim_thread(any_store, "t", "b:2:y", 60) > 0
    assert renew_claim(any_store, "t", "a:1:x", 60) and not renew_claim(any_store, "t", "b:2:y", 60)
    with any_store.session() as session, session.begin():
        session.execute(update(ThreadClaim).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert claim_thread(any_store, "t", "b:2:y", 60) == 0.0  # expired: taken over
    assert not renew_claim(any_store, "t", "a:1:x", 60)  # the old holder lost it
    release_claim(any_store, "t", "b:2:y")

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    from supportgraph.store.threads import HOST
    assert claim_thread(any_store, "u", f"{HOST}:{dead.pid}:z", 60) == 0.0
    assert claim_thread(any_store, "u", new_owner(), 60) == 0.0  # its process is gone: no need to wait
    assert claim_thread(any_store, "v", f"{HOST}:{os.getpid()}:other-turn", 60) == 0.0
    assert claim_thread(any_store, "v", new_owner(), 60) > 0  # a live process's claim holds


def test_memory_wraps_any_saver_for_deleting_and_listing(unit_agent):
    unit_agent.ask("I was charged twice this month", thread_id="listed-thread")
    memory = Memory(unit_agent.memory.saver)
    assert memory.kind == "sqlite" and "listed-thread" in memory.thread_ids()
