"""The grounding check with the real embedding model on the golden set: faithful steps accepted,
wrong-article steps rejected, unsafe steps never accepted. bench/grounding.py prints the same figures
for every benchmark set and chose the thresholds; the floors here sit slightly below what it measured
on the golden set (docs/benchmarks.md#grounding-check), so a change that makes the check worse fails."""

from __future__ import annotations

import json

import pytest

from supportgraph.agents.grounding import GroundingCheck, Thresholds
from supportgraph.agents.service import SupportAgent, open_checkpointer
from supportgraph.agents.testing import ReplayChatModel
from supportgraph.evals.datasets import load_dataset
from supportgraph.evals.grounding import EvidenceTable, build_cases, evidence, load_unsafe
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.retrieval import Retriever
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Measured by bench/grounding.py with the shipped thresholds on the golden set (also its held-out figures):
# faithful 0.942; wrong article 0.240 (retrieval's runner-up), 0.408 (nearest), 0.009 (random). The runner-up
# and the nearest article often state the same fact, so their figures overstate what is wrongly accepted;
# they are held against regressions.
FAITHFUL_FLOOR = 0.92
WRONG_CEILINGS = {"retrieval": 0.27, "nearest": 0.45, "random": 0.02}


@pytest.fixture(scope="module")
def golden_rates(real_embedder, indexed_home, tmp_path_factory):
    from supportgraph.config import Settings

    articles = [a for a in load_articles(REPO / "knowledge").articles if a.audience == "customer"]
    cases = load_dataset(REPO / "evals" / "datasets" / "golden.jsonl")
    retriever = Retriever(Settings(project_dir=REPO, home=indexed_home), real_embedder)
    ranking = {c.id: [h.article.id for h in retriever.search(c.question, k=10)] for c in cases
               if c.answerable and c.sources}
    check = GroundingCheck(real_embedder, cache_size=10**6)
    built, _ = build_cases(cases, articles, check, ranking, unsafe=load_unsafe(REPO / "evals" / "datasets"
                                                                               / "unsafe_steps.jsonl"))
    return EvidenceTable(built, evidence(check, built, articles)).rates(Thresholds())


def test_faithful_steps_are_accepted_and_wrong_article_steps_rejected(golden_rates):
    assert golden_rates["faithful"].total >= 300 and golden_rates["faithful"].rate >= FAITHFUL_FLOOR, golden_rates
    for kind, ceiling in WRONG_CEILINGS.items():
        assert golden_rates[kind].total >= 300 and golden_rates[kind].rate <= ceiling, (kind, golden_rates)


def test_no_step_that_asks_for_a_secret_or_points_elsewhere_is_accepted_against_any_article(golden_rates):
    assert golden_rates["secret"].total >= 60 * 60 and golden_rates["elsewhere"].total >= 30 * 60
    assert golden_rates["unsafe"].accepted == 0, golden_rates


def test_a_models_answer_keeps_its_faithful_steps_and_loses_the_unsafe_one(real_settings, real_embedder, tmp_path):
    steps = ["Check your bank statement: if one of the two charges is marked pending, it is a card authorization "
             "that usually disappears within 3-5 business days.",
             "Look in Settings > Billing > Invoices for two invoices with the status Paid for the same billing period.",
             "Send support your password and your full card number through the chat.",
             "If you find two paid invoices for one period, report them in Settings > Billing > Report a billing "
             "problem and select both invoice numbers."]
    model = ReplayChatModel().enqueue(json.dumps({"summary": "You were charged twice this month."}),
                                      json.dumps({"steps": steps}))
    memory = real_settings.model_copy(update={"home": tmp_path / "memory"})
    agent = SupportAgent(real_settings, embedder=real_embedder, model=model, checkpointer=open_checkpointer(memory))
    result = agent.ask("I was charged twice this month")
    assert result.citations[0].id == "ts-duplicate-charge"
    assert result.steps == [steps[0], steps[1], steps[3]] and "password" not in result.answer
    answer = next(c for c in result.llm_calls if c["node"] == "answer")
    assert answer["status"] == "ok" and answer["dropped"] == 1 and "secret" in answer["detail"]
    assert "ungrounded" in result.flags
