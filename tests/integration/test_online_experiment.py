"""A running online experiment with the real agent (real embedding model, real Chroma, real SQLite):
two conversations in different variants are served differently, each variant sticks across turns
and across a restart of the agent, raising coverage moves nobody, and the API serves the same over
real HTTP (uvicorn on loopback) with the live results behind a staff key."""

from __future__ import annotations

import shutil
import threading
import time

import httpx
import pytest
import uvicorn

from supportgraph.agents.service import SupportAgent, open_checkpointer
from supportgraph.api import create_app
from supportgraph.config import Settings
from supportgraph.experiments.assignment import bucket, choose
from supportgraph.store.experiments import assignment_of
from supportgraph.store.keys import create_key
from tests.conftest import REPO
from tests.servers import free_port

pytestmark = pytest.mark.integration

EXPERIMENT = """\
status: running
salt: it-1
coverage: 1.0
variants: {production: 50, terse: 50}
primary_metric: resolution
min_sample: 5
"""
# Fewer candidates (its own retriever) and no closing question: both read by the deterministic twins.
VARIANT = "    terse: {retrieval: {candidates: 60}, brief: {scaffold: {confirm: false}}}\n"
CONFIRM = "Did that resolve your issue?"


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(REPO / "agents", root / "agents")
    shutil.copytree(REPO / "prompts", root / "prompts")
    params = (REPO / "params.yaml").read_text()
    head, _, _ = params.partition("experiment:\n")
    (root / "params.yaml").write_text(head + "experiment:\n  variants:\n" + VARIANT)
    (root / "experiments").mkdir()
    (root / "experiments" / "terse.yaml").write_text(EXPERIMENT)
    return root


@pytest.fixture
def settings(project, indexed_home, tmp_path):
    return Settings(project_dir=project, home=indexed_home, knowledge_dir=REPO / "knowledge",
                    database_url=f"sqlite:///{tmp_path / 'exp.db'}")


def make_agent(settings, embedder, memory_home):
    memory = settings.model_copy(update={"home": memory_home})
    return SupportAgent(settings, embedder=embedder, checkpointer=open_checkpointer(memory))


def thread_in(variant: str, prefix: str) -> str:
    """A thread id the experiment's hash puts in ``variant`` (computed, not hoped for)."""
    for n in range(1000):
        thread = f"{prefix}-{n}"
        if choose(bucket("it-1", thread), ["production", "terse"], [50, 50], 1.0) == variant:
            return thread
    raise AssertionError("no thread id found")


def test_two_variants_are_served_differently_and_each_sticks(settings, real_embedder, tmp_path):
    agent = make_agent(settings, real_embedder, tmp_path / "memory")
    control, treated = thread_in("production", "c"), thread_in("terse", "t")
    first = {t: agent.ask("I was charged twice this month", thread_id=t, channel="chat") for t in (control, treated)}
    assert first[control].experiment == {"name": "terse", "variant": "production", "served": "production"}
    assert first[treated].experiment == {"name": "terse", "variant": "terse", "served": "terse"}
    assert first[control].outcome == first[treated].outcome == "answered"
    assert CONFIRM in first[control].answer and CONFIRM not in first[treated].answer

    # A new issue in the same conversations, then the agent restarts (a reload): nothing moves.
    second = {t: agent.ask("How do I download my invoices?", thread_id=t, channel="chat") for t in (control, treated)}
    agent.close()
    # Raising coverage and changing the split does not move a conversation already assigned.
    (settings.project_dir / "experiments" / "terse.yaml").write_text(
        EXPERIMENT.replace("{production: 50, terse: 50}", "{production: 10, terse: 90}"))
    again = make_agent(settings, real_embedder, tmp_path / "memory")
    third = {t: again.ask("thanks, and how do I add our VAT ID to invoices?", thread_id=t, channel="chat") for t in (control, treated)}
    for turns in (second, third):
        assert turns[control].experiment["variant"] == "production" and CONFIRM in turns[control].answer
        assert turns[treated].experiment["variant"] == "terse" and CONFIRM not in turns[treated].answer

    stored = again.store.conversation(treated)
    assert [t.trace["experiment"]["variant"] for t in stored.turns] == ["terse"] * 3
    assert assignment_of(again.store, treated).variant == "terse"
    assert {t.trace["experiment"]["served"] for t in again.store.conversation(control).turns} == {"production"}
    again.close()


class Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread
        pass


@pytest.fixture
def http(settings, real_embedder, tmp_path):
    agent = make_agent(settings, real_embedder, tmp_path / "memory")
    port = free_port()
    server = Server(uvicorn.Config(create_app(settings, agent=agent, send_webhooks=False), host="127.0.0.1",
                                   port=port, log_level="warning"))
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        yield client, agent
    server.should_exit = True
    runner.join(timeout=30)
    agent.close()


def test_the_api_serves_the_variant_on_every_turn_and_reports_live_results(http):
    client, agent = http
    chat = {"X-Api-Key": create_key(agent.store, "acme", "site", "chat", 600, 600)[0], "X-End-User": "alice"}
    staff = {"X-Api-Key": create_key(agent.store, "acme", "desk", "staff", 600, 600)[0]}
    served = {}
    for _ in range(12):
        thread = client.post("/threads", headers=chat, json={}).json()["thread_id"]
        turns = [client.post(f"/threads/{thread}/runs/wait", headers=chat,
                             json={"assistant_id": "support", "input": {"message": message}}).json()
                 for message in ("I was charged twice this month", "it worked, thanks")]
        variants = {t["experiment"]["variant"] for t in turns}
        assert len(variants) == 1, turns  # sticky across turns over HTTP
        variant = variants.pop()
        assert (CONFIRM in turns[0]["reply"]) == (variant == "production")
        served[thread] = variant
    assert set(served.values()) == {"production", "terse"}

    status = client.get("/experiments/terse", headers=staff)
    assert status.status_code == 200, status.text
    body = status.json()
    counts = {arm["variant"]: arm["conversations"] for arm in body["arms"]}
    assert counts == {v: list(served.values()).count(v) for v in ("production", "terse")}
    assert body["status"] == "running" and body["srm_ok"] is True
    assert client.get("/experiments/terse", headers=chat).status_code in (401, 403)  # staff only
    assert client.get("/experiments/nope", headers=staff).status_code == 404
