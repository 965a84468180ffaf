"""Background runs survive the process that accepted them: a real `supportgraph serve` accepts two runs,
starts one (its model server never answers) and is killed with SIGKILL; a second `supportgraph serve` on
the same database finishes both, the one left running and the one left pending, each answered once.
On SQLite (one machine, the process restarted) and PostgreSQL (another replica)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from supportgraph.store import Store
from tests.conftest import REPO
from tests.servers import free_port, running

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent


class Stall:
    """An 'OpenAI-compatible server' that accepts connections and never answers: a turn calling it hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.connected = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)
            self.connected.set()

    def close(self) -> None:
        for connection in self.held:
            connection.close()
        self.sock.close()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_runs_of_a_killed_server_are_finished_by_the_next_one(backend, new_database, indexed_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(indexed_home, home)  # the index, and this test's own memory
    url = new_database(backend)
    env = dict(os.environ, SUPPORTGRAPH_DATABASE_URL=url, SUPPORTGRAPH_PROJECT_DIR=str(REPO),
               SUPPORTGRAPH_HOME=str(home), SUPPORTGRAPH_RUN_WORKERS="1", SUPPORTGRAPH_RUN_POLL_S="0.2")

    def cli(*args: str) -> str:
        done = subprocess.run([BIN / "supportgraph", *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    cli("db", "setup")
    alice = {"X-Api-Key": cli("keys", "create", "--tenant", "acme", "--name", "site"), "X-End-User": "alice"}
    stall = Stall()
    stalled_env = env | {"SUPPORTGRAPH_CHAT_MODEL": "stalled", "SUPPORTGRAPH_CHAT_BASE_URL": stall.url,
                         "SUPPORTGRAPH_LLM_TIMEOUT_S": "600", "SUPPORTGRAPH_LLM_RETRIES": "0"}
    logs = [open(tmp_path / f"server-{i}.log", "w") for i in range(2)]
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with running([BIN / "supportgraph", "serve", "--port", port], f"{base}/ok", env=stalled_env,
                     stdout=logs[0], stderr=subprocess.STDOUT) as first:
            threads = [httpx.post(f"{base}/threads", headers=alice, json={}).json()["thread_id"] for _ in range(2)]
            runs = []
            for thread, message in zip(threads, ("I was charged twice this month", "My app is not syncing"),
                                       strict=True):
                accepted = httpx.post(f"{base}/threads/{thread}/runs", headers=alice,
                                      json={"input": {"message": message}}, timeout=30)
                assert accepted.status_code == 200 and accepted.json()["status"] == "pending", accepted.text
                runs.append(accepted.json()["run_id"])
            assert stall.connected.wait(60), "the first run never called the model"

            def status(i: int) -> str:
                return httpx.get(f"{base}/threads/{threads[i]}/runs/{runs[i]}", headers=alice).json()["status"]
            assert [status(0), status(1)] == ["running", "pending"]  # one worker, stuck in the first turn
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with running([BIN / "supportgraph", "serve", "--port", port], f"{base}/ok", env=env,
                     stdout=logs[1], stderr=subprocess.STDOUT):
            outputs = [httpx.get(f"{base}/threads/{thread}/runs/{run_id}/join", headers=alice, timeout=120)
                       for thread, run_id in zip(threads, runs, strict=True)]
            assert [o.status_code for o in outputs] == [200, 200], [o.text for o in outputs]
            charged, syncing = (o.json() for o in outputs)
            assert charged["outcome"] == "answered" and charged["citations"][0]["id"] == "ts-duplicate-charge"
            assert syncing["outcome"] == "clarify"
            finished = [httpx.get(f"{base}/threads/{t}/runs/{r}", headers=alice).json()
                        for t, r in zip(threads, runs, strict=True)]
            assert [(r["status"], r["attempts"]) for r in finished] == [("success", 2), ("success", 1)]
    finally:
        stall.close()
        for log in logs:
            log.close()
    store = Store(url)
    for thread, output in zip(threads, (charged, syncing), strict=True):
        turns = store.conversation(thread).turns
        assert [t.id for t in turns] == [output["turn_id"]]  # answered once, by the second server
    store.engine.dispose()
