"""The real model and real Chroma over the sample knowledge base find the right article."""

import json
from pathlib import Path

import pytest

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


def test_the_agent_cites_the_article_it_retrieved_first(real_agent):
    answered = [real_agent.ask(case["question"]) for case in QUESTIONS[:8]]
    for result in answered:
        if result.outcome == "answered":
            assert result.citations[0].id == result.retrieved[0]["id"]
    assert sum(r.outcome == "answered" for r in answered) >= 6
