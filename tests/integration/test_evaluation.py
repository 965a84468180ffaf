"""The evaluation CI relies on: the golden-set gate, and the same evaluation on someone else's data."""

import json

import pytest
from typer.testing import CliRunner

from supportgraph.cli import app
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_golden_set_passes_the_briefs_gate(tmp_path):
    """CI's quality gate: a prompt, retrieval or knowledge edit that drops quality fails here."""
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["eval", "--gate", "--out", str(out), "--project", str(REPO)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["count"]["questions"] >= 150
    assert "Failing questions" in (out / "report.md").read_text()
    assert (out / "per_category.csv").read_text().startswith("category,questions,recall_at_5")


def test_bring_your_own_knowledge_and_questions(tmp_path):
    knowledge = tmp_path / "help"
    (knowledge / "billing").mkdir(parents=True)
    (knowledge / "billing" / "refunds.md").write_text(
        "# Getting a refund\n\nRefunds are possible within 30 days of purchase.\n\n## Steps\n"
        "1. Open Orders.\n2. Choose the order and click Request refund.\n")
    (knowledge / "billing" / "invoices.md").write_text(
        "# Downloading invoices\n\nInvoices are PDFs.\n\n## Steps\n1. Open Account > Invoices.\n2. Click Download.\n")
    (knowledge / "shipping.md").write_text("# Shipping times\n\nOrders ship within 2 business days by courier.\n")
    # Files without front matter are staff-only unless the operator says otherwise (issue #12).
    (knowledge / "defaults.yaml").write_text("unmarked_audience: customer\n")
    questions = [
        {"id": "q1", "question": "how do i get my money back for an order", "reference_answer": "Request a refund "
         "from Orders within 30 days.", "sources": ["billing/refunds"], "answerable": True},
        {"id": "q2", "question": "where can I download a pdf invoice?", "reference_answer": "Account > Invoices.",
         "sources": ["billing/invoices"], "answerable": True},
        {"id": "q3", "question": "how long does shipping take", "reference_answer": "2 business days.",
         "sources": ["shipping"], "answerable": True},
        {"id": "q4", "question": "do you sell gift cards for the cinema next door?", "reference_answer": "Hand over.",
         "sources": [], "answerable": False},
    ]
    dataset = tmp_path / "questions.jsonl"
    dataset.write_text("".join(json.dumps(q) + "\n" for q in questions))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "--knowledge", str(knowledge), "--dataset", str(dataset),
                                      "--out", str(out), "--project", str(REPO)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    for group, key in [("retrieval", "recall_at_1"), ("retrieval", "recall_at_5"), ("retrieval", "mrr_at_10"),
                       ("answer", "semantic_similarity"), ("outcome", "answerable_answered"),
                       ("outcome", "unanswerable_abstained"), ("latency", "p50_ms"), ("latency", "p95_ms")]:
        assert isinstance(metrics[group][key], (int, float)), (group, key)
    assert metrics["count"] == {"questions": 4, "answerable": 3}

    rows = {r["id"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert set(rows) == {"q1", "q2", "q3", "q4"}
    for case in questions[:3]:  # answered from its own article, with that article's steps
        row = rows[case["id"]]
        source = case["sources"][0]
        assert (row["outcome"], row["retrieved"][0], row["cited"][:1]) == ("answered", source, [source]), row
        article = (knowledge / f"{source}.md").read_text()
        assert row["steps"] and all(step in article for step in row["steps"]), (row["steps"], source)
    unanswerable = rows["q4"]
    assert unanswerable["outcome"] in ("escalated", "refused"), unanswerable
    assert (unanswerable["cited"], unanswerable["steps"]) == ([], [])
