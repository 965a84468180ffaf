"""The HTTP API in-process (FastAPI's TestClient) over the hash-embedder agent: auth, ownership, runs,
streamed events, history, feedback, busy threads, rate limits, errors as JSON with the fix."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from supportgraph.api import create_app
from supportgraph.store.keys import create_key, list_keys, revoke_key
from supportgraph.store.threads import claim_thread, release_claim

pytestmark = pytest.mark.unit


@pytest.fixture
def api(unit_agent):
    with TestClient(create_app(unit_agent.settings, agent=unit_agent, send_webhooks=False),
                    raise_server_exceptions=False) as client:
        yield client


def key(agent, tenant="acme", scope="chat", rate=600, end_user_rate=600) -> str:
    return create_key(agent.store, tenant, "test", scope, rate, end_user_rate)[0]


def as_user(api_key: str, end_user: str | None = None) -> dict:
    return {"X-Api-Key": api_key} | ({"X-End-User": end_user} if end_user else {})


def ask(api, headers, thread_id, message, **extra):
    return api.post(f"/threads/{thread_id}/runs/wait", headers=headers,
                    json={"assistant_id": "support", "input": {"message": message}} | extra)


def events(response) -> list[tuple[str, dict]]:
    found, event = [], None
    for line in response.text.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            found.append((event, json.loads(line.split(":", 1)[1])))
    return found


def test_a_customer_asks_reads_the_history_and_rates_the_answer(api, unit_agent):
    alice = as_user(key(unit_agent), "alice")
    thread = api.post("/threads", headers=alice, json={"metadata": {"page": "/billing"}}).json()
    assert thread["status"] == "idle" and thread["end_user"] == "alice" and thread["metadata"] == {"page": "/billing"}

    answer = ask(api, alice, thread["thread_id"], "I was charged twice this month")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "answered" and body["citations"][0]["id"] == "ts-charged-twice"
    assert body["steps"] and "Did that resolve your issue?" in body["reply"] and body["thread_id"] == thread["thread_id"]

    rated = api.post(f"/threads/{thread['thread_id']}/turns/{body['turn_id']}/feedback", headers=alice,
                     json={"thumb": "up", "stars": 5})
    assert rated.status_code == 200 and rated.json() == {"turn_id": body["turn_id"], "thumb": "up", "stars": 5,
                                                         "comment": None}
    history = api.get(f"/threads/{thread['thread_id']}/history", headers=alice).json()
    assert [h["values"]["message"] for h in history] == ["I was charged twice this month"]
    assert history[0]["metadata"]["feedback"]["stars"] == 5
    assert history[0]["checkpoint"]["checkpoint_id"] == unit_agent.memory.latest_id(thread["thread_id"])


def test_messages_in_langgraph_s_shape_and_stateless_runs_work_too(api, unit_agent):
    bob = as_user(key(unit_agent), "bob")
    run = api.post("/runs/wait", headers=bob, json={"assistant_id": "support", "input": {"messages": [
        {"role": "user", "content": "I was charged twice this month"}]}})
    assert run.status_code == 200 and run.json()["outcome"] == "answered"
    assert api.get(f"/threads/{run.json()['thread_id']}", headers=bob).json()["end_user"] == "bob"
    assert api.post("/assistants/search", headers=bob, json={}).json()[0]["assistant_id"] == "support"
    unknown = api.post("/runs/wait", headers=bob, json={"assistant_id": "sales", "input": {"message": "hi"}})
    assert unknown.status_code == 404 and "support" in unknown.json()["error"]["fix"]


def test_a_chat_key_never_reads_another_end_user_s_thread(api, unit_agent):
    chat = key(unit_agent)
    alice, mallory = as_user(chat, "alice"), as_user(chat, "mallory")
    thread_id = api.post("/runs/wait", headers=alice,
                         json={"input": {"message": "I was charged twice this month"}}).json()["thread_id"]
    turn_id = unit_agent.store.conversation(thread_id).turns[0].id
    for response in (api.get(f"/threads/{thread_id}", headers=mallory),
                     api.get(f"/threads/{thread_id}/history", headers=mallory),
                     ask(api, mallory, thread_id, "show me"),
                     ask(api, mallory, thread_id, "show me", if_not_exists="create"),
                     api.post(f"/threads/{thread_id}/runs/stream", headers=mallory, json={"input": {"message": "x"}}),
                     api.post(f"/threads/{thread_id}/turns/{turn_id}/feedback", headers=mallory, json={"thumb": "down"}),
                     api.delete(f"/threads/{thread_id}", headers=mallory),
                     api.get(f"/threads/{thread_id}/history", headers=as_user(key(unit_agent, "other-co"), "alice")),
                     api.get(f"/threads/{thread_id}/history", headers=as_user(key(unit_agent, "other-co", "staff")))):
        assert response.status_code in (404, 409), response.text
        assert "I was charged" not in response.text
    assert len(unit_agent.store.conversation(thread_id).turns) == 1
    assert unit_agent.store.feedback_for(turn_id) is None
    staff = as_user(key(unit_agent, scope="staff"))
    assert api.get(f"/threads/{thread_id}/history", headers=staff).json()[0]["values"]["message"] \
        == "I was charged twice this month"
    assert api.get("/webhooks/deliveries", headers=alice).status_code == 403


def test_keys_are_checked_hashed_and_revocable(api, unit_agent):
    assert api.post("/threads").json()["error"]["code"] == "unauthenticated"
    chat = key(unit_agent)
    assert api.post("/threads", headers=as_user(chat)).status_code == 400  # no end user named
    wrong = chat[:-4] + ("AAAA" if not chat.endswith("AAAA") else "BBBB")
    assert api.post("/threads", headers=as_user(wrong, "alice")).status_code == 401
    assert api.post("/threads", headers={"Authorization": f"Bearer {chat}", "X-End-User": "alice"}).status_code == 200
    key_id = chat.split("_")[1]
    stored = [k for k in list_keys(unit_agent.store) if k.id == key_id][0]
    assert not hasattr(stored, "secret_hash") and chat.split("_", 2)[2] not in stored.model_dump_json()
    revoke_key(unit_agent.store, key_id)
    revoked = api.post("/threads", headers=as_user(chat, "alice"))
    assert revoked.status_code == 401 and "keys list" in revoked.json()["error"]["fix"]


def test_a_streamed_run_sends_typed_events_without_proxy_buffering(api, unit_agent):
    alice = as_user(key(unit_agent), "alice")
    thread_id = api.post("/threads", headers=alice).json()["thread_id"]
    with api.stream("POST", f"/threads/{thread_id}/runs/stream", headers=alice,
                    json={"input": {"message": "I was charged twice this month"}}) as response:
        response.read()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-accel-buffering"] == "no" and response.headers["cache-control"] == "no-cache"
    got = events(response)
    kinds = [kind for kind, _ in got]
    assert kinds[0] == "metadata" and kinds[-1] == "end"
    steps = [data["node"] for kind, data in got if kind == "step"]
    assert steps[:2] == ["guard", "summarize"] and "answer" in steps
    assert kinds.index("reply") > kinds.index("step") and kinds.count("citation") >= 1
    reply = dict(got)["reply"]
    assert reply["outcome"] == "answered" and reply["turn_id"] == unit_agent.store.conversation(thread_id).turns[0].id
    assert dict(got)["citation"]["id"] == "ts-charged-twice"
    assert dict(got)["end"] == {"run_id": got[0][1]["run_id"], "status": "success", "turn_id": reply["turn_id"]}


def test_an_escalation_is_its_own_event(api, unit_agent):
    alice = as_user(key(unit_agent), "alice")
    response = api.post("/runs/stream", headers=alice, json={"input": {"message": "I want to talk to a human"}})
    got = dict(events(response))
    assert got["reply"]["outcome"] == "escalated" and got["escalation"]["handoff"]


def test_a_second_message_while_a_turn_runs_is_a_409_or_waits_its_turn(api, unit_agent):
    alice = as_user(key(unit_agent), "alice")
    thread_id = api.post("/threads", headers=alice).json()["thread_id"]
    claim_thread(unit_agent.store, thread_id, "elsewhere:1:turn", 60)  # a turn running on another replica
    assert api.get(f"/threads/{thread_id}", headers=alice).json()["status"] == "busy"
    for path in ("wait", "stream"):
        busy = api.post(f"/threads/{thread_id}/runs/{path}", headers=alice, json={"input": {"message": "hello?"}})
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "thread_busy"
        assert 55 <= int(busy.headers["retry-after"]) <= 60
    unit_agent.settings.turn_wait_s = 0.5
    queued = ask(api, alice, thread_id, "hello?", multitask_strategy="enqueue")
    assert queued.status_code == 409  # still busy after waiting
    release_claim(unit_agent.store, thread_id, "elsewhere:1:turn")
    assert ask(api, alice, thread_id, "I was charged twice this month", multitask_strategy="enqueue").status_code == 200
    assert unit_agent.store.conversation(thread_id).turns[0].customer_message == "I was charged twice this month"


def test_rate_limits_per_key_and_per_end_user_answer_429_with_retry_after(api, unit_agent):
    per_user = key(unit_agent, rate=100, end_user_rate=2)
    for _ in range(2):
        assert api.post("/threads", headers=as_user(per_user, "alice")).status_code == 200
    limited = api.post("/threads", headers=as_user(per_user, "alice"))
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert "end user" in limited.json()["error"]["message"]
    assert api.post("/threads", headers=as_user(per_user, "bob")).status_code == 200  # another customer is not held

    per_key = key(unit_agent, rate=3, end_user_rate=100)
    codes = [api.post("/threads", headers=as_user(per_key, f"user-{i}")).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_errors_are_json_with_the_fix_never_a_traceback(api, unit_agent, monkeypatch):
    alice = as_user(key(unit_agent), "alice")
    invalid = api.post("/runs/wait", headers=alice, json={"input": {}})
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "invalid_request"
    assert "message" in invalid.json()["error"]["message"] and invalid.json()["error"]["fix"]
    assert api.get("/nowhere").json()["error"]["code"] == "http_error"

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")
    monkeypatch.setattr(unit_agent, "ask_stream", broken)
    failed = api.post("/runs/wait", headers=alice, json={"input": {"message": "hi"}})
    assert failed.status_code == 500 and "reference" in failed.json()["error"]["message"]
    assert "Traceback" not in failed.text and "passwd" not in failed.text


def test_deleting_a_thread_deletes_its_transcript_and_memory(api, unit_agent):
    alice = as_user(key(unit_agent), "alice")
    thread_id = api.post("/runs/wait", headers=alice,
                         json={"input": {"message": "I was charged twice this month"}}).json()["thread_id"]
    assert unit_agent.memory.latest_id(thread_id) is not None
    assert api.delete(f"/threads/{thread_id}", headers=alice).status_code == 204
    assert unit_agent.store.conversation(thread_id) is None and unit_agent.memory.latest_id(thread_id) is None
    assert api.get(f"/threads/{thread_id}", headers=alice).status_code == 404


def test_openapi_docs_and_the_chat_page_are_served(api):
    spec = api.get("/openapi.json").json()
    assert {"/threads", "/threads/{thread_id}/runs/stream", "/threads/{thread_id}/history"} <= set(spec["paths"])
    assert "APIKeyHeader" in json.dumps(spec["components"]["securitySchemes"])
    assert "swagger" in api.get("/docs").text.lower()
    page = api.get("/widget/")
    assert page.status_code == 200 and "Describe your problem" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert api.get("/widget/widget.js").headers["content-type"].startswith(("text/javascript", "application/javascript"))


def test_a_slow_turn_gets_heartbeats_while_it_runs(api, unit_agent, monkeypatch):
    import time

    real = unit_agent.ask_stream

    def slow(*args, **kwargs):
        for item in real(*args, **kwargs):
            time.sleep(0.25)  # a slow model between steps
            yield item
    monkeypatch.setattr(unit_agent, "ask_stream", slow)
    unit_agent.settings.sse_ping_s = 0.1
    response = api.post("/runs/stream", headers=as_user(key(unit_agent), "alice"),
                        json={"input": {"message": "I was charged twice this month"}})
    pings = [line for line in response.text.splitlines() if line.startswith(": ping")]
    assert len(pings) >= 3 and dict(events(response))["end"]["status"] == "success"
