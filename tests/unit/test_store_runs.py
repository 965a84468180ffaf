"""Background runs in the store, on both backends (``any_store``: SQLite as a unit test, PostgreSQL as an
integration test): a thread's runs are taken in order, one worker at a time, a dead worker's run is taken
over, and workers racing for runs never take one twice."""

from __future__ import annotations

import datetime as dt
import threading

from supportgraph.store.runs import add_run, cancel_run, claim_next_run, finish_run, get_run, list_runs, put_back


def _add(store, thread_id: str, message: str = "hello"):
    return add_run(store, thread_id, tenant="acme", end_user="alice", assistant_id="support", message=message,
                   input_flags=[], metadata={}, multitask_strategy="enqueue")


def test_a_thread_s_runs_are_taken_in_order_beside_other_threads(any_store):
    a1, b1, a2 = _add(any_store, "thread-a"), _add(any_store, "thread-b"), _add(any_store, "thread-a")
    assert claim_next_run(any_store, "w1", 60).run_id == a1.run_id
    assert claim_next_run(any_store, "w2", 60).run_id == b1.run_id  # another thread goes on beside it
    assert claim_next_run(any_store, "w3", 60) is None  # a2 waits for a1, though a worker is free
    assert finish_run(any_store, a1.run_id, "w1", status="success", turn_id=1, output={})
    assert not finish_run(any_store, a1.run_id, "w1", status="error")  # only the holder of a running run ends it
    taken = claim_next_run(any_store, "w3", 60)
    assert taken.run_id == a2.run_id and taken.status == "running" and taken.attempts == 1
    assert [r.run_id for r in list_runs(any_store, "thread-a")] == [a2.run_id, a1.run_id]


def test_a_dead_worker_s_run_is_taken_over_once_its_lease_ran_out(any_store):
    run = _add(any_store, "thread-a")
    start = dt.datetime.now(dt.UTC)
    assert claim_next_run(any_store, "elsewhere:1:dead", 30, now=start).run_id == run.run_id
    assert claim_next_run(any_store, "w2", 30, now=start + dt.timedelta(seconds=29)) is None
    taken = claim_next_run(any_store, "w2", 30, now=start + dt.timedelta(seconds=31))
    assert taken.run_id == run.run_id and taken.owner == "w2" and taken.attempts == 2
    assert not finish_run(any_store, run.run_id, "elsewhere:1:dead", status="success")  # the old holder lost it


def test_a_run_given_back_waits_and_a_cancelled_one_is_never_taken(any_store):
    given_back, cancelled = _add(any_store, "thread-a"), _add(any_store, "thread-b")
    assert cancel_run(any_store, "thread-b", cancelled.run_id)
    claim_next_run(any_store, "w1", 60)
    assert put_back(any_store, given_back.run_id, "w1", 60)
    assert get_run(any_store, "thread-a", given_back.run_id).attempts == 0
    assert claim_next_run(any_store, "w2", 60) is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
    assert claim_next_run(any_store, "w2", 60, now=later).run_id == given_back.run_id


def test_workers_racing_for_runs_never_take_one_twice(any_store):
    runs = {_add(any_store, f"thread-{i}").run_id for i in range(12)}
    taken: list[str] = []
    start = threading.Barrier(4)

    def work(name: str) -> None:
        start.wait()
        while (run := claim_next_run(any_store, name, 60)) is not None:
            taken.append(run.run_id)
    workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(taken) == sorted(runs)  # each once, none lost
