"""The LLM path against a real OpenAI-compatible server on loopback: llama-cpp-python serving
the Gemma 3 270M GGUF from PyPI. The model is weak: this proves the plumbing (every node's prompt
rendered and sent with its settings, a model output used end to end, bad output caught, a dead
server survived), not answer quality."""

from __future__ import annotations

import pytest

from supportgraph.agents import twins
from supportgraph.agents.models import build_chat_model, call_prompt
from supportgraph.agents.service import SupportAgent, open_checkpointer
from supportgraph.prompts.registry import PromptRegistry
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FALLBACKS = {"invalid", "refused", "empty", "ungrounded"}  # the model answered, the answer was not usable


def local_settings(real_settings, server):
    # json_object: llama.cpp constrains decoding to each prompt's output schema, which the
    # 270M model cannot follow from the instruction alone.
    return real_settings.model_copy(update={"chat_base_url": server.url, "chat_model": "gemma-3-270m",
                                            "chat_json_mode": "json_object", "llm_timeout_s": 60.0,
                                            "llm_retries": 0})


def agent_for(settings, real_embedder, tmp_path) -> SupportAgent:
    memory = settings.model_copy(update={"home": tmp_path / "memory"})
    return SupportAgent(settings, embedder=real_embedder, checkpointer=open_checkpointer(memory))


@pytest.fixture
def llm_agent(llama_server, real_settings, real_embedder, tmp_path):
    return agent_for(local_settings(real_settings, llama_server), real_embedder, tmp_path)


def test_every_prompt_is_sent_with_its_settings_and_never_exceeds_its_max_tokens(llama_server, real_settings):
    model = build_chat_model(local_settings(real_settings, llama_server))
    registry = PromptRegistry(REPO / "prompts")
    for prompt in registry.prompts.values():
        before = llama_server.requests()
        values = {name: variable.sample for name, variable in prompt.input_variables.items()}
        call = call_prompt(model, prompt.name, prompt, values, json_mode="json_object")
        assert call.status not in ("error", "timeout"), (prompt.name, call.detail)
        assert llama_server.requests() == before + 1
        assert 0 < call.output_tokens <= prompt.model["max_tokens"], (prompt.name, call.output_tokens)


def test_a_conversation_runs_every_node_through_the_model(llm_agent):
    message = "I was charged twice this month"
    answered = llm_agent.ask(message, thread_id="llm")
    assert answered.outcome == "answered" and answered.citations[0].id == "ts-duplicate-charge"
    calls = {c["node"]: c for c in answered.llm_calls}
    assert set(calls) == {"summarize", "answer"}
    for call in calls.values():
        assert call["prompt"]["version"] == "1.0.0" and len(call["prompt"]["hash"]) == 12
        assert call["latency_ms"] > 0 and call["input_tokens"] > 0
    # The model's summary is accepted and shown: not the twin's sentence.
    assert calls["summarize"]["status"] == "ok", calls["summarize"]
    assert answered.summary and answered.summary != twins.summarize_issue(message)
    assert f"**Summary:** {answered.summary}" in answered.answer
    # Its steps are not usable (the 270M model cannot write grounded steps): caught, and the twin's shown.
    assert calls["answer"]["status"] in FALLBACKS and "fallback:answer:" + calls["answer"]["status"] in answered.flags
    article = llm_agent.retriever.article("ts-duplicate-charge")
    assert answered.steps and all(step in " ".join(article.body.split()) for step in answered.steps)
    stored = llm_agent.store.conversation("llm").turns[0]
    assert stored.summary == answered.summary
    assert stored.trace["model"] == "gemma-3-270m" and stored.trace["llm_calls"][0]["prompt"]["name"] == "support.summarize"

    clarify = llm_agent.ask("my changes are not syncing between my devices", thread_id="device")
    assert clarify.outcome == "clarify" and clarify.answer.count("?") == 1
    assert {c["node"] for c in clarify.llm_calls} == {"summarize", "clarify"}

    escalated = llm_agent.ask("I want to talk to a real person about my invoice", thread_id="person")
    assert escalated.outcome == "escalated" and "escalate" in {c["node"] for c in escalated.llm_calls}
    assert all(c["status"] not in ("error", "timeout") for c in escalated.llm_calls)


def test_killing_the_server_mid_conversation_still_answers_the_customer(own_llama_server, real_settings,
                                                                         real_embedder, tmp_path):
    agent = agent_for(local_settings(real_settings, own_llama_server), real_embedder, tmp_path)
    first = agent.ask("I never got the password reset email", thread_id="kill")
    assert first.outcome == "answered" and all(c["status"] not in ("error", "timeout") for c in first.llm_calls)
    own_llama_server.kill()
    follow = agent.ask("I'm locked out after too many attempts, what now?", thread_id="kill-2")
    assert follow.outcome == "answered" and follow.steps
    assert follow.llm_calls and all(c["status"] == "error" for c in follow.llm_calls)
    assert {f for f in follow.flags if f.startswith("fallback:")} == {f"fallback:{c['node']}:error"
                                                                      for c in follow.llm_calls}
