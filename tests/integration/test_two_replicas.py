"""Two API replicas on one PostgreSQL and one `chroma run`, no sticky sessions: a conversation alternating
between them keeps its memory; the same thread hit on both at once runs one turn at a time and loses none;
rate limits count across them; an escalation is delivered once though both run a webhook sender; an article
edited and re-indexed through one is found through the other, which also finds it by the new words alone and
reports the new KB version; the other's stale copy of the knowledge folder, indexed again, does not undo the edit.

Each replica has its own home folder (index folder: manifest, article records, BM25 files) and its own copy of
the knowledge folder, as on two machines; they share only PostgreSQL (memory, store, claims, counters, the
published index: knowledge/shared.py) and the Chroma server (vectors).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from supportgraph.agents.memory import Memory, open_checkpointer
from supportgraph.config import Settings
from supportgraph.knowledge.index import read_manifest
from supportgraph.knowledge.lexical import LexicalIndex
from supportgraph.store import Store
from tests.conftest import REPO
from tests.integration.test_webhooks import Receiver
from tests.servers import free_port, running

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent
EDITED_STEP = ("3. Choose the format: CSV, JSON or a Zorblat archive.", "3. Choose the format: CSV or JSON.")


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    port = free_port()
    command = [BIN / "chroma", "run", "--path", tmp_path_factory.mktemp("chroma"), "--host", "127.0.0.1",
               "--port", port]
    with running(command, f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=60):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def cluster(tmp_path, chroma, new_database):
    """Set up (each replica indexes its own copy of the knowledge folder, `db setup`, keys), then start two
    `supportgraph serve` replicas."""
    env = dict(os.environ, SUPPORTGRAPH_DATABASE_URL=new_database("postgresql"), SUPPORTGRAPH_CHROMA_URL=chroma,
               SUPPORTGRAPH_PROJECT_DIR=str(REPO), SUPPORTGRAPH_WEBHOOK_POLL_S="0.2",
               SUPPORTGRAPH_COLLECTION=f"kb-{tmp_path.name[-12:]}".replace("_", "-"))
    envs = []
    for name in ("a", "b"):
        shutil.copytree(REPO / "knowledge", tmp_path / f"knowledge-{name}")
        envs.append(env | {"SUPPORTGRAPH_HOME": str(tmp_path / f"home-{name}"),
                           "SUPPORTGRAPH_KNOWLEDGE_DIR": str(tmp_path / f"knowledge-{name}")})

    def cli(*args: str, on: dict = envs[0]) -> str:
        done = subprocess.run([BIN / "supportgraph", *args], env=on, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    cli("index", "-q", "--no-chats")
    assert "0 chunks embedded" in cli("index", "-q", "--no-chats", on=envs[1])  # the vectors are A's already
    cli("db", "setup")
    keys = {"chat": cli("keys", "create", "--tenant", "acme", "--name", "site"),
            "staff": cli("keys", "create", "--tenant", "acme", "--name", "desk", "--scope", "staff"),
            "tight": cli("keys", "create", "--tenant", "acme", "--name", "tight", "--rate", "5")}
    receiver = Receiver([200])
    cli("webhooks", "add", "--tenant", "acme", "--url", receiver.url)
    ports = [free_port(), free_port()]
    logs = [open(tmp_path / f"replica-{i}.log", "w") for i in range(2)]
    try:
        with running([BIN / "supportgraph", "serve", "--port", ports[0]], f"http://127.0.0.1:{ports[0]}/ok",
                     env=envs[0], stdout=logs[0], stderr=subprocess.STDOUT), \
             running([BIN / "supportgraph", "serve", "--port", ports[1]], f"http://127.0.0.1:{ports[1]}/ok",
                     env=envs[1], stdout=logs[1], stderr=subprocess.STDOUT):
            yield {"urls": [f"http://127.0.0.1:{p}" for p in ports], "keys": keys, "env": env, "envs": envs,
                   "receiver": receiver, "homes": [tmp_path / "home-a", tmp_path / "home-b"],
                   "knowledge": tmp_path / "knowledge-a"}
    finally:
        receiver.close()
        for log in logs:
            log.close()


def run(base: str, key: str, thread: str, message: str, user: str = "alice", **extra) -> httpx.Response:
    return httpx.post(f"{base}/threads/{thread}/runs/wait", timeout=120,
                      headers={"X-Api-Key": key, "X-End-User": user},
                      json={"input": {"message": message}} | extra)


def test_two_replicas_share_memory_claims_limits_webhooks_and_the_index(cluster):
    a, b = cluster["urls"]
    chat, staff = cluster["keys"]["chat"], cluster["keys"]["staff"]
    alice = {"X-Api-Key": chat, "X-End-User": "alice"}
    settings = Settings(database_url=cluster["env"]["SUPPORTGRAPH_DATABASE_URL"], project_dir=REPO)
    store, memory = Store(settings.database_url), Memory(open_checkpointer(settings))

    # One conversation, alternating: the clarifying question asked by A is answered through B.
    thread = httpx.post(f"{a}/threads", headers=alice, json={}).json()["thread_id"]
    asked = run(a, chat, thread, "My app is not syncing").json()
    assert asked["outcome"] == "clarify" and "Which device" in asked["reply"]
    answered = run(b, chat, thread, "On my iPhone").json()
    assert answered["outcome"] == "answered" and answered["citations"][0]["id"] == "ts-app-not-syncing"
    assert "App Store" in answered["reply"]  # the iOS section: the device the question was about
    follow_up = run(a, chat, thread, "it still fails").json()
    assert follow_up["outcome"] in ("answered", "escalated")
    assert all(c["id"] != "ts-app-not-syncing" for c in follow_up["citations"])  # the next article, not the same
    history = httpx.get(f"{b}/threads/{thread}/history", headers=alice).json()
    assert [h["values"]["message"] for h in history] == ["it still fails", "On my iPhone", "My app is not syncing"]
    assert memory.latest_id(thread) == history[0]["checkpoint"]["checkpoint_id"]

    # The same new thread hit on both replicas at once: one turn at a time, every accepted turn recorded.
    race = httpx.post(f"{b}/threads", headers=alice, json={}).json()["thread_id"]
    start = threading.Barrier(6)

    def hit(i: int) -> int:
        start.wait()
        return run((a, b)[i % 2], chat, race, "I was charged twice this month").status_code
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(hit, range(6)))
    assert set(codes) <= {200, 409} and 200 in codes, codes
    turns = store.conversation(race).turns
    assert len(turns) == codes.count(200) and memory.count(race) == len(turns)
    assert memory.latest_id(race) == turns[-1].checkpoint_id

    # A key's limit counts requests on both replicas.
    tight = {"X-Api-Key": cluster["keys"]["tight"], "X-End-User": "bob"}
    statuses = [httpx.post(f"{(a, b)[i % 2]}/threads", headers=tight, json={}).status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]

    # An escalation through A is delivered once, though both replicas send webhooks.
    escalated = run(a, chat, httpx.post(f"{a}/threads", headers=alice, json={}).json()["thread_id"],
                    "I want to talk to a human, not a bot").json()
    assert escalated["outcome"] == "escalated"
    deadline = time.monotonic() + 20
    while not cluster["receiver"].requests and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # several polling rounds of both replicas
    assert len(cluster["receiver"].requests) == 1
    assert json.loads(cluster["receiver"].requests[0][2])["data"]["turn_id"] == escalated["turn_id"]

    # An article edited and re-indexed through A is found through B, though B's home and folder are its own.
    question = "How do I export my workspace data as a Zorblat archive?"
    before = run(b, chat, httpx.post(f"{b}/threads", headers=alice, json={}).json()["thread_id"], question).json()
    assert before["citations"][0]["id"] == "faq-export-data" and EDITED_STEP[1][3:] in before["steps"]
    home_b = cluster["homes"][1] / "index"
    assert lexical_ids(home_b, "Zorblat") == []  # no article has the word yet
    article = (cluster["knowledge"] / "faqs" / "faq-export-data.md").read_text()
    edited = httpx.put(f"{a}/knowledge/articles/faq-export-data", headers={"X-Api-Key": staff}, timeout=300,
                       json={"text": article.replace(EDITED_STEP[1], EDITED_STEP[0]), "reason": "new export step"})
    assert edited.status_code == 200, edited.text
    new_version = edited.json()["kb_version"]
    assert new_version != before["kb_version"] and edited.json()["embedded_chunks"] > 0
    waited = time.monotonic()
    while kb_version(b) != new_version:  # B looks at the published version every SUPPORTGRAPH_INDEX_CHECK_S (2 s)
        assert time.monotonic() - waited < 10, "B never followed the published index"
        time.sleep(0.2)
    after = run(b, chat, httpx.post(f"{b}/threads", headers=alice, json={}).json()["thread_id"], question).json()
    assert after["kb_version"] == new_version
    assert after["outcome"] == "answered" and after["citations"][0]["id"] == "faq-export-data"
    assert EDITED_STEP[0][3:] in after["steps"] and EDITED_STEP[1][3:] not in after["steps"], after["reply"]
    assert lexical_ids(home_b, "Zorblat")[0] == "faq-export-data"  # B's BM25 files know the new word
    assert read_manifest(home_b) == read_manifest(cluster["homes"][0] / "index")  # with A's calibration

    # B's knowledge folder still has the old step: indexing it again keeps A's edit, and says so.
    stale = subprocess.run([BIN / "supportgraph", "index", "-q", "--no-chats"], capture_output=True, text=True,
                           env=cluster["envs"][1] | {"COLUMNS": "500"}, timeout=600)  # no wrapped paths
    assert stale.returncode == 0, stale.stderr
    assert "behind the published index" in stale.stderr and "faq-export-data" in stale.stderr
    assert str(cluster["homes"][0]) in stale.stderr  # who published the newer version
    assert f"KB version {new_version}" in stale.stdout and kb_version(b) == kb_version(a) == new_version
    again = run(b, chat, httpx.post(f"{b}/threads", headers=alice, json={}).json()["thread_id"], question).json()
    assert EDITED_STEP[0][3:] in again["steps"], again["reply"]
    # An edit through B starting from B's old copy is refused, and nothing is saved.
    stale_copy = cluster["homes"][1].parent / "knowledge-b" / "faqs" / "faq-export-data.md"
    refused = httpx.put(f"{b}/knowledge/articles/faq-export-data", headers={"X-Api-Key": staff}, timeout=300,
                        json={"text": stale_copy.read_text().replace("CSV or JSON", "CSV, JSON or XML"),
                              "reason": "add XML"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "index_conflict", refused.text
    assert "CSV or JSON." in stale_copy.read_text() and kb_version(b) == new_version
    memory.close()
    store.engine.dispose()


def kb_version(base: str) -> str:
    return json.loads(urllib.request.urlopen(f"{base}/ok").read())["kb_version"]


def lexical_ids(index_dir: Path, query: str) -> list[str]:
    """The articles a replica's own BM25 files find (read from its index folder, not through its API)."""
    folder = index_dir / read_manifest(index_dir)["lexical_dir"]
    return [doc.article_id for doc, _ in LexicalIndex.load(folder).search(query, 5)]
