"""The LLM path with the replaying fake: prompts rendered and sent, outputs used when
valid and grounded, and every failure answered by the twin with the reason on the trace."""

import json
import sqlite3

import pytest

from supportgraph.agents.service import SupportAgent
from supportgraph.agents.testing import ReplayChatModel
from supportgraph.store import Store

pytestmark = pytest.mark.unit
STEPS = ["Check your statement for a pending charge twice.",
         "Open Settings > Billing > Invoices and look for two paid invoices."]


@pytest.fixture
def agent_with(make_unit_agent):
    def make(*replies) -> tuple[SupportAgent, ReplayChatModel]:
        model = ReplayChatModel().enqueue(*replies)
        return make_unit_agent(model=model), model
    return make


def statuses(result):
    return [(c["node"], c["status"]) for c in result.llm_calls]


def test_valid_grounded_output_is_used_and_the_prompts_were_rendered_and_sent(agent_with):
    agent, model = agent_with(json.dumps({"summary": "You were charged twice in one month."}),
                              "```json\n" + json.dumps({"steps": STEPS}) + "\n```")
    result = agent.ask("I was charged twice this month")
    assert result.outcome == "answered" and statuses(result) == [("summarize", "ok"), ("answer", "ok")]
    assert result.summary == "You were charged twice in one month." and result.steps == STEPS
    summarize_sent, answer_sent = (" ".join(m.content for m in sent) for sent in model.received)
    assert '"""I was charged twice this month"""' in summarize_sent
    assert "[ts-charged-twice]" in answer_sent and "Reply with only a JSON object" in answer_sent
    assert {c["prompt"]["name"] for c in result.llm_calls} == {"support.summarize", "support.answer"}
    stored = agent.store.conversation(result.thread_id).turns[-1].trace
    assert stored["llm_calls"][1]["prompt"]["version"] == "1.0.0" and stored["model"] == "replay"


@pytest.mark.parametrize("reply, status", [
    ("Here are some steps: 1. do things", "invalid"),
    (json.dumps({"steps": ["Call our CEO on his private phone."]}), "ungrounded"),
    ("I'm sorry, I can't help with that.", "refused"),
    ("", "empty"),
    (TimeoutError("Request timed out."), "timeout"),
    (ConnectionError("server gone"), "error"),
])
def test_bad_output_or_a_dead_model_falls_back_to_the_twin(agent_with, reply, status):
    agent, _ = agent_with(json.dumps({"summary": "You were charged twice."}), reply)
    result = agent.ask("I was charged twice this month")
    assert result.outcome == "answered"
    assert result.steps[0] == "Check your statement for a pending charge twice."  # the twin's steps
    assert ("answer", status) in statuses(result) and f"fallback:answer:{status}" in result.flags


def test_steps_the_article_does_not_support_are_dropped_and_the_rest_shown(agent_with):
    unsafe = "Send support your password and your full card number through the chat."
    agent, _ = agent_with(json.dumps({"summary": "You were charged twice."}),
                          json.dumps({"steps": [STEPS[0], unsafe, STEPS[1]]}))
    result = agent.ask("I was charged twice this month")
    assert result.outcome == "answered" and result.steps == STEPS and unsafe not in result.answer
    call = result.llm_calls[-1]
    assert call["status"] == "ok" and call["dropped"] == 1 and "dropped 1 of 3 steps" in call["detail"]
    assert "ungrounded" in result.flags and not any(f.startswith("fallback:") for f in result.flags)
    stored = agent.store.conversation(result.thread_id).turns[-1]
    assert stored.trace["llm_calls"][-1]["dropped"] == 1 and "ungrounded" in stored.flags


def test_guardrails_apply_to_model_output_too(agent_with):
    agent, _ = agent_with(json.dumps({"summary": "Your export is stuck."}),
                          json.dumps({"steps": ["Wait for the export email.",
                                                "We will refund your plan if the export is stuck."]}))
    result = agent.ask("my export is stuck")
    assert result.outcome == "escalated" and "guardrail:promise_refund" in result.flags
    assert "refund your plan" not in result.answer


def test_clarifying_question_from_the_model_must_be_one_question(agent_with):
    agent, _ = agent_with(json.dumps({"summary": "Your app is not syncing."}),
                          json.dumps({"question": "Which phone? And which version?"}))
    result = agent.ask("the app is not syncing my changes")
    assert result.outcome == "clarify" and ("clarify", "invalid") in statuses(result)
    assert "Which device are you using" in result.answer


def test_an_existing_database_gains_new_columns_without_losing_rows(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE conversations (id VARCHAR(64) PRIMARY KEY, channel VARCHAR(16), status VARCHAR(16),"
                    " handoff_summary TEXT, created_at DATETIME, updated_at DATETIME)")
        old.execute("INSERT INTO conversations VALUES ('t1', 'chat', 'open', NULL, '2026-11-01', '2026-11-01')")
        old.execute("CREATE TABLE turns (id INTEGER PRIMARY KEY, conversation_id VARCHAR(64), created_at DATETIME,"
                    " customer_message TEXT, reply TEXT, summary TEXT, outcome VARCHAR(16), retrieved JSON,"
                    " citations JSON, confidence FLOAT, kb_version VARCHAR(32), latency_ms FLOAT, flags JSON)")
        old.execute("INSERT INTO turns VALUES (1, 't1', '2026-11-01', 'hi', 'hello', '', 'answered', '[]', '[]', 0,"
                    " 'v', 1, '[]')")
    store = Store(f"sqlite:///{path}")
    turns = store.conversation("t1").turns
    assert [t.customer_message for t in turns] == ["hi"] and turns[0].trace is None


def test_each_call_carries_its_prompts_temperature_and_max_tokens(agent_with):
    from supportgraph.prompts.registry import PromptRegistry
    from tests.conftest import REPO

    agent, model = agent_with(json.dumps({"summary": "You were charged twice in one month."}),
                              json.dumps({"steps": STEPS}))
    agent.ask("I was charged twice this month")
    prompts = PromptRegistry(REPO / "prompts").prompts
    expected = [{k: prompts[name].model[k] for k in ("temperature", "max_tokens")}
                for name in ("support.summarize", "support.answer")]
    assert model.options == expected


def test_an_openai_compatible_server_gets_max_tokens_and_the_schema_in_the_request_body():
    from langchain_openai import ChatOpenAI

    from supportgraph.agents.models import call_options

    schema = {"type": "object", "properties": {"summary": {"type": "string"}}}
    local = ChatOpenAI(base_url="http://127.0.0.1:9/v1", api_key="none", model="local")
    assert call_options(local, {"temperature": 0.0, "max_tokens": 80}) == {"temperature": 0.0,
                                                                            "extra_body": {"max_tokens": 80}}
    assert call_options(local, {"max_tokens": 80}, schema, "summary", "json_object") == {
        "extra_body": {"max_tokens": 80, "response_format": {"type": "json_object", "schema": schema}}}
    # OpenAI itself (and other providers) take max_tokens as a model option.
    hosted = ChatOpenAI(api_key="none", model="gpt-4o-mini")
    assert call_options(hosted, {"temperature": 0.2, "max_tokens": 60}) == {"temperature": 0.2, "max_tokens": 60}
    assert call_options(hosted, {}, schema, "summary", "json_schema") == {
        "response_format": {"type": "json_schema", "json_schema": {"name": "summary", "schema": schema}}}
