"""Whole conversations through the real graph, model, index, SQLite store and checkpointer."""

import json

import pytest
from typer.testing import CliRunner

from supportgraph.cli import app
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_charged_twice_gets_summary_steps_citation_and_closing_question(real_agent):
    result = real_agent.ask("I was charged twice this month")
    assert result.outcome == "answered"
    assert result.summary == "You were charged twice this month."
    assert result.citations[0].id == "ts-duplicate-charge"
    assert len(result.steps) >= 3 and "Report a billing problem" in " ".join(result.steps)
    assert "1. " in result.answer and result.answer.rstrip().endswith("Did that resolve your issue?")
    turn = real_agent.store.conversation(result.thread_id).turns[0]
    assert turn.kb_version == result.kb_version and turn.retrieved[0]["id"] == "ts-duplicate-charge"


def test_missing_device_gets_one_question_then_device_specific_steps(real_agent):
    question = real_agent.ask("my changes are not syncing between my devices", thread_id="sync")
    assert question.outcome == "clarify" and question.answer.count("?") == 1
    answer = real_agent.ask("on my android phone", thread_id="sync")
    assert answer.outcome == "answered" and answer.citations[0].id == "ts-app-not-syncing"
    assert any("Android" in step or "Google Play" in step for step in answer.steps)


def test_follow_up_continues_the_same_issue(real_agent):
    first = real_agent.ask("I never got the password reset email", thread_id="pw")
    follow = real_agent.ask("it still fails", thread_id="pw")
    assert follow.summary == first.summary
    assert first.citations[0].id not in [c.id for c in follow.citations]


def test_question_with_no_article_escalates_with_a_handoff(real_agent):
    result = real_agent.ask("Can I switch the interface language to German?", thread_id="lang")
    assert result.outcome == "escalated" and result.handoff and "low_confidence" in result.flags
    assert real_agent.store.conversation("lang").handoff_summary.startswith("Issue:")


def test_staff_only_policy_never_reaches_a_customer(real_agent):
    result = real_agent.ask("what approval code do agents use for goodwill credits on billing exceptions?")
    assert not any(r["id"].startswith("policy-internal") for r in result.retrieved)
    assert "GW-2026" not in result.answer and "x4417" not in result.answer


def test_cli_ask_json_has_the_documented_fields(real_settings, monkeypatch):
    monkeypatch.setenv("SUPPORTGRAPH_HOME", str(real_settings.home))
    monkeypatch.setenv("SUPPORTGRAPH_DATABASE_URL", real_settings.database_url)
    result = CliRunner().invoke(app, ["ask", "how do I download my invoices?", "--json", "--project", str(REPO)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"summary", "steps", "citations", "outcome", "answer", "kb_version", "latency_ms", "thread_id"} <= set(data)
    assert data["outcome"] == "answered" and data["citations"][0]["id"] == "faq-download-invoices"


def test_cli_chat_keeps_the_thread(real_settings, monkeypatch):
    monkeypatch.setenv("SUPPORTGRAPH_HOME", str(real_settings.home))
    monkeypatch.setenv("SUPPORTGRAPH_DATABASE_URL", real_settings.database_url)
    result = CliRunner().invoke(app, ["chat", "--thread", "repl", "--project", str(REPO)],
                                input="the app keeps crashing when I open it\nmac\n/quit\n")
    assert result.exit_code == 0, result.output
    assert "Which device" in result.stdout and "Did that resolve" in result.stdout


def test_cli_shows_a_fix_not_a_traceback_when_the_index_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPORTGRAPH_HOME", str(tmp_path / "empty-home"))
    result = CliRunner().invoke(app, ["ask", "hello", "--project", str(REPO)])
    assert result.exit_code == 1
    assert "supportgraph index" in result.output and "Traceback" not in result.output
