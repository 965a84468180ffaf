"""Starting, stopping and concluding an online experiment over HTTP (staff keys only): the file's
status changes, the stop is recorded with the key that made it, conclude promotes and logs, a
refusal says why (409), and a customer's key changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from supportgraph.agents.service import SupportAgent
from supportgraph.api import create_app
from supportgraph.config import Settings
from supportgraph.evals.experiments import load_log
from supportgraph.experiments.definition import get_experiment, set_status
from supportgraph.knowledge.index import build_index
from supportgraph.store.experiments import stop_of
from supportgraph.store.keys import create_key
from tests.unit.conftest import unit_retriever
from tests.unit.test_online_experiments import fill, project  # noqa: F401 (project is a fixture)

pytestmark = pytest.mark.unit


@pytest.fixture
def agent(project, kb_settings, hash_embedder, unit_brief, tmp_path):  # noqa: F811
    settings = Settings(project_dir=project, home=kb_settings.home, knowledge_dir=kb_settings.knowledge_dir,
                        database_url=kb_settings.database_url)
    build_index(settings, hash_embedder)
    return SupportAgent(settings, embedder=hash_embedder, brief=unit_brief,
                        retriever=unit_retriever(settings, hash_embedder))


@pytest.fixture
def api(agent):
    with TestClient(create_app(agent.settings, agent=agent, send_webhooks=False),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def staff(agent):
    secret, info = create_key(agent.store, "acme", "desk", "staff", 600, 600)
    return {"X-Api-Key": secret}, info


def status_of(agent) -> str:
    return get_experiment(agent.settings.project_dir, "careful").status


def test_staff_start_stop_and_refuse_a_restart_under_the_same_salt(api, agent, staff):
    headers, key = staff
    set_status(agent.settings.project_dir, "careful", "draft")
    started = api.post("/experiments/careful/start", headers=headers)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "running" and status_of(agent) == "running"
    again = api.post("/experiments/careful/start", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "experiment_conflict"
    assert "already running" in again.json()["error"]["message"]

    fill(agent.store, "production", 3, 1, 1)
    fill(agent.store, "cautious", 4, 0, 1)
    stopped = api.post("/experiments/careful/stop", headers=headers, json={"reason": "pager: escalations"})
    assert stopped.status_code == 200, stopped.text
    body = stopped.json()
    assert body["status"] == "stopped" and body["stop"]["reason"] == "pager: escalations"
    assert status_of(agent) == "stopped"
    stop = stop_of(agent.store, "careful", "s1")
    assert stop.by == f"api key {key.id} (desk)" and stop.figures["conversations"] == {"production": 5, "cautious": 5}

    restart = api.post("/experiments/careful/start", headers=headers)
    assert restart.status_code == 409 and f"was stopped by api key {key.id} (desk)" in restart.json()["error"]["message"]
    assert "new salt" in restart.json()["error"]["fix"] and status_of(agent) == "stopped"
    twice = api.post("/experiments/careful/stop", headers=headers, json={"reason": "again"})
    assert twice.status_code == 409 and "not running (it is stopped)" in twice.json()["error"]["message"]
    assert stop_of(agent.store, "careful", "s1").reason == "pager: escalations"  # the first stop is the record


def test_conclude_refuses_without_significance_says_why_and_forced_promotes_and_logs(api, agent, staff):
    headers, _ = staff
    fill(agent.store, "production", 5, 2, 3)
    fill(agent.store, "cautious", 6, 2, 2)
    brief = agent.settings.project_dir / "agents/support/brief.yaml"
    before = brief.read_text()
    refused = api.post("/experiments/careful/conclude", headers=headers, json={"learning": "too early"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["message"] == "Not concluding 'careful': not enough data yet: 10 of 40 conversations in the " \
                               "smallest variant." and "--force" in error["fix"]
    assert status_of(agent) == "running" and brief.read_text() == before and load_log(agent.settings.project_dir) == []

    unnamed = api.post("/experiments/careful/conclude", headers=headers, json={"learning": "x", "force": True})
    assert unnamed.status_code == 400 and "winner named" in unnamed.json()["error"]["message"]
    unknown = api.post("/experiments/careful/conclude", headers=headers,
                       json={"learning": "x", "winner": "nope", "force": True})
    assert unknown.status_code == 400 and "production, cautious" in unknown.json()["error"]["fix"]

    forced = api.post("/experiments/careful/conclude", headers=headers,
                      json={"learning": "decided by hand", "winner": "cautious", "force": True})
    assert forced.status_code == 200, forced.text
    record = forced.json()
    assert record["winner"]["name"] == "cautious" and record["evidence"].startswith("forced: not enough data yet")
    assert record["promoted"] == ["brief.yaml: escalation.min_confidence 0.5 -> 0.7"]
    assert "min_confidence: 0.7" in brief.read_text() and status_of(agent) == "concluded"
    (logged,) = load_log(agent.settings.project_dir)
    assert logged.learning == "decided by hand" and logged.online["conversations"] == {"production": "10",
                                                                                        "cautious": "10"}
    again = api.post("/experiments/careful/conclude", headers=headers, json={"learning": "again", "force": True,
                                                                            "winner": "cautious"})
    assert again.status_code == 409 and "already concluded" in again.json()["error"]["message"]
    start = api.post("/experiments/careful/start", headers=headers)
    assert start.status_code == 409 and "concluded" in start.json()["error"]["message"]


def test_conclude_promotes_the_significant_winner_unforced(api, agent, staff):
    fill(agent.store, "production", 15, 5, 30)
    fill(agent.store, "cautious", 35, 5, 10)
    done = api.post("/experiments/careful/conclude", headers=staff[0], json={"learning": "stricter wins"})
    assert done.status_code == 200, done.text
    assert done.json()["evidence"].startswith("cautious is significantly better on resolution")
    assert status_of(agent) == "concluded" and load_log(agent.settings.project_dir)[-1].winner.name == "cautious"


def test_customer_keys_and_no_key_change_nothing(api, agent):
    chat = {"X-Api-Key": create_key(agent.store, "acme", "site", "chat", 600, 600)[0], "X-End-User": "alice"}
    fill(agent.store, "production", 15, 5, 30)
    fill(agent.store, "cautious", 35, 5, 10)
    brief = agent.settings.project_dir / "agents/support/brief.yaml"
    before = brief.read_text()
    calls = [("start", None), ("stop", {"reason": "mischief"}), ("conclude", {"learning": "mine"})]
    for headers, code in ((chat, 403), ({}, 401)):
        for action, body in calls:
            response = api.post(f"/experiments/careful/{action}", headers=headers, json=body)
            assert response.status_code == code, (action, response.text)
            assert "Traceback" not in response.text
    assert status_of(agent) == "running" and stop_of(agent.store, "careful", "s1") is None
    assert brief.read_text() == before and load_log(agent.settings.project_dir) == []


@pytest.mark.parametrize("action, body, code, where", [
    ("stop", None, 422, "body"),
    ("stop", {"reason": "   "}, 422, "reason"),
    ("stop", {"reason": "x", "by": "someone else"}, 422, "by"),
    ("conclude", {"learning": ""}, 422, "learning"),
    ("conclude", {"learning": "x", "forced": True}, 422, "forced"),
    ("conclude", {"learning": "x", "force": "maybe"}, 422, "force"),
])
def test_invalid_bodies_are_422_and_name_the_field(api, agent, staff, action, body, code, where):
    response = api.post(f"/experiments/careful/{action}", headers=staff[0], json=body)
    assert response.status_code == code and where in response.json()["error"]["message"]
    assert status_of(agent) == "running" and stop_of(agent.store, "careful", "s1") is None


@pytest.mark.parametrize("action, body", [("start", None), ("stop", {"reason": "x"}), ("conclude", {"learning": "x"})])
def test_an_unknown_experiment_is_404_with_the_known_ones(api, staff, action, body):
    response = api.post(f"/experiments/nope/{action}", headers=staff[0], json=body)
    assert response.status_code == 404 and "careful" in response.json()["error"]["fix"]


def test_one_experiment_runs_at_a_time(api, agent, staff):
    root = agent.settings.project_dir
    (root / "experiments" / "second.yaml").write_text(
        (root / "experiments" / "careful.yaml").read_text().replace("status: running", "status: draft")
        .replace("salt: s1", "salt: s2"))
    refused = api.post("/experiments/second/start", headers=staff[0])
    assert refused.status_code == 409 and "'careful' is running" in refused.json()["error"]["message"]
    assert get_experiment(root, "second").status == "draft"
