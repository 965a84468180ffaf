"""The real model and real Chroma over the sample knowledge base find the right article."""

import json
from pathlib import Path

import pytest

from supportgraph.evals.runner import DEFAULT_CLARIFY_REPLY
from supportgraph.knowledge.retrieval import Retriever

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTIONS = [json.loads(line) for line in (Path(__file__).parent / "customer_questions.jsonl").read_text().splitlines()
             if line.strip()]


def test_right_article_in_top_three_for_nine_in_ten_customer_questions(real_settings, real_embedder):
    retriever = Retriever(real_settings, real_embedder)
    misses = []
    for case in QUESTIONS:
        top3 = [hit.article.id for hit in retriever.search(case["question"], k=3)]
        if case["expected"] not in top3:
            misses.append((case["question"], case["expected"], top3))
    assert len(QUESTIONS) >= 20
    assert len(misses) <= len(QUESTIONS) // 10, "\n".join(map(str, misses))


def test_the_agent_cites_the_expected_article_for_nine_in_ten_customer_questions(real_agent):
    """What the customer sees: the article the reply cites first is the one that answers the question.
    A clarifying question is answered the way the evaluation runner does, then the reply is judged.
    (22 of 24 today: policy-subprocessors is handed over, policy-workspace-deletion cites the trash FAQ.)"""
    misses = []
    for number, case in enumerate(QUESTIONS):
        thread = f"question-{number}"
        result = real_agent.ask(case["question"], thread_id=thread)
        if result.outcome == "clarify":
            result = real_agent.ask(DEFAULT_CLARIFY_REPLY, thread_id=thread)
        cited = result.citations[0].id if result.citations else None
        if result.outcome != "answered" or cited != case["expected"]:
            misses.append((case["question"], case["expected"], result.outcome, cited))
    assert len(misses) <= len(QUESTIONS) // 10, "\n".join(map(str, misses))
