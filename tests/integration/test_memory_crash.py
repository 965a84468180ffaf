"""Memory and transcript agree after kill -9 between the two writes, on SQLite and PostgreSQL: the turn
the customer never saw is rolled back out of memory, and their retry is answered from the state they saw.
And a PostgreSQL replica refuses to start on memory tables nobody set up, naming the command that does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import supportgraph
from supportgraph.agents.memory import Memory, open_checkpointer
from supportgraph.agents.service import SupportAgent
from supportgraph.config import Settings
from supportgraph.errors import ConfigError
from supportgraph.store import Store
from supportgraph.store.api_models import ThreadClaim
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]
WRITER = Path(__file__).with_name("turn_writer.py")
BIN = Path(sys.executable).parent


def _env(url: str) -> dict:
    return dict(os.environ, SUPPORTGRAPH_DATABASE_URL=url, PYTHONPATH=os.pathsep.join(
        [str(Path(supportgraph.__file__).parents[1]), str(REPO), os.environ.get("PYTHONPATH", "")]))


def _kill_between_memory_and_transcript(home: Path, memory_home: Path, url: str, thread: str) -> int:
    writer = subprocess.Popen([sys.executable, str(WRITER), str(REPO), str(home), str(memory_home), url, thread],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(url))
    watchdog = threading.Timer(300, writer.kill)
    watchdog.start()
    lines = []
    try:
        for line in writer.stdout:
            lines.append(line.strip())
            if line.startswith("memory-written"):
                writer.send_signal(signal.SIGKILL)
                break
    finally:
        watchdog.cancel()
        writer.kill()
        writer.wait()
        stderr = writer.stderr.read()
        writer.stdout.close()
        writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL and lines[-1] == "memory-written", (lines, stderr)
    assert lines[0].endswith("clarify"), lines
    return writer.pid


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_between_memory_and_transcript_leaves_them_agreeing(backend, new_database, indexed_home, tmp_path,
                                                                   real_embedder):
    url = new_database(backend)
    subprocess.run([BIN / "supportgraph", "db", "setup", "--project", str(REPO)], env=_env(url)
                   | {"SUPPORTGRAPH_HOME": str(tmp_path / "memory-home")}, check=True, capture_output=True, timeout=120)
    thread = f"crash-{backend}"
    pid = _kill_between_memory_and_transcript(indexed_home, tmp_path / "memory-home", url, thread)

    settings = Settings(project_dir=REPO, home=indexed_home, database_url=url)
    saver = open_checkpointer(settings.model_copy(update={"home": tmp_path / "memory-home"}))
    store = Store(url)
    memory = Memory(saver)
    turns = store.conversation(thread).turns
    assert [t.outcome for t in turns] == ["clarify"]  # the killed turn never reached the transcript...
    assert memory.latest_id(thread) > turns[0].checkpoint_id  # ...but its memory was written
    assert memory.count(thread) == 2
    with store.session() as session:
        assert session.get(ThreadClaim, thread).owner.split(":")[1] == str(pid)  # and the dead turn's claim is left

    agent = SupportAgent(settings, embedder=real_embedder, checkpointer=saver, store=store)
    retry = agent.ask("On my iPhone", thread_id=thread)  # the customer never saw a reply, so they send it again
    assert retry.outcome == "answered", retry.answer
    assert retry.citations[0].id == "ts-app-not-syncing" and "App Store" in retry.answer  # the iOS steps
    turns = store.conversation(thread).turns
    assert [(t.customer_message, t.outcome) for t in turns] == [("My app is not syncing", "clarify"),
                                                                ("On my iPhone", "answered")]
    assert memory.count(thread) == 2 and memory.latest_id(thread) == turns[-1].checkpoint_id
    state = agent.graph.get_state({"configurable": {"thread_id": thread}}).values
    assert state["awaiting"] == "confirm" and state["slots"]["device"] == "ios"
    agent.close()


def test_a_replica_refuses_memory_tables_nobody_set_up(new_database, tmp_path):
    settings = Settings(project_dir=REPO, home=tmp_path / "home", database_url=new_database("postgresql"))
    with pytest.raises(ConfigError) as refused:
        open_checkpointer(settings)
    assert "do not exist" in refused.value.message and "supportgraph db setup" in refused.value.fix
    result = subprocess.run([BIN / "supportgraph", "db", "setup", "--project", str(REPO)],
                            env=_env(settings.database_url), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "PostgresSaver" in result.stdout, result.stderr
    saver = open_checkpointer(settings)
    assert type(saver).__name__ == "PostgresSaver" and Memory(saver).thread_ids() == set()
    saver.conn.close()
