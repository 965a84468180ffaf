"""LLM-judged RAGAS metrics with a replaying fake judge: the wiring, and that a bad judgement
costs one question its score (with the reason) instead of the run."""

import json

import pytest

from supportgraph.agents.testing import ReplayChatModel
from supportgraph.config import Settings
from supportgraph.evals.evaluate import score
from supportgraph.evals.judge import ChatModelJudge, LocalRagasEmbeddings, build_judge
from supportgraph.evals.llm_metrics import (
    AnswerRelevancy,
    ContextPrecision,
    Faithfulness,
    judge_records,
)
from supportgraph.evals.report import judge_summary, read_rows, read_scores, write_scores
from tests.unit.test_eval_metrics import record

pytestmark = pytest.mark.unit

STATEMENTS = json.dumps({"statements": ["Open Billing.", "Click Refund."]})
VERDICTS = json.dumps({"statements": [{"statement": "Open Billing.", "reason": "in the article", "verdict": 1},
                                      {"statement": "Click Refund.", "reason": "not there", "verdict": 0}]})


def answered(id="1"):
    r = record(id, "answered", cited=["a"], retrieved=["a"])
    return r.model_copy(update={"question": "How do I get a refund?", "reference_answer": "Open Billing.",
                                "retrieved_contexts": ["Open Billing to see invoices.", "Unrelated text."],
                                "steps": ["Open Billing.", "Click Refund."]})


def test_faithfulness_sends_ragas_prompts_to_the_configured_model_and_scores_its_verdicts():
    model = ReplayChatModel().enqueue(STATEMENTS, "Sure! ```json\n" + VERDICTS + "\n```")
    judged = judge_records([answered()], [Faithfulness(ChatModelJudge(model, "replay"))], timeout_s=5)
    assert judged.per_case["1"] == {"answer_llm.faithfulness": 0.5}
    assert judged.aggregate == {"answer_llm.faithfulness": 0.5, "answer_llm.faithfulness_judged": 1,
                                "answer_llm.faithfulness_failed": 0}
    assert len(model.received) == 2 and "Open Billing." in model.received[0][0].content
    assert "Open Billing to see invoices." in model.received[1][0].content


def test_answer_relevancy_and_context_precision_use_the_judge_and_the_local_embeddings(hash_embedder):
    question = json.dumps({"question": "How do I get a refund?", "noncommittal": 0})
    model = ReplayChatModel().enqueue(question, question,
                                      json.dumps({"reason": "useful", "verdict": 1}),
                                      json.dumps({"reason": "not useful", "verdict": 0}))
    judge = ChatModelJudge(model)
    metrics = (AnswerRelevancy(judge, LocalRagasEmbeddings(hash_embedder), strictness=2), ContextPrecision(judge))
    judged = judge_records([answered()], metrics, timeout_s=5)
    assert judged.per_case["1"]["answer_llm.answer_relevancy"] == pytest.approx(1.0, abs=1e-6)
    assert judged.per_case["1"]["answer_llm.context_precision"] == pytest.approx(1.0, abs=1e-6)
    assert not judged.errors and len(model.received) == 4


class ReadTimeout(Exception):
    pass


def test_a_bad_or_slow_judge_costs_one_question_its_score_and_says_why():
    records = [answered("ok"), answered("garbled"), answered("slow"), answered("down"),
               record("escalated", "escalated", retrieved=["a"])]
    model = ReplayChatModel().enqueue(STATEMENTS, VERDICTS, "I think it is mostly right.",
                                      ReadTimeout("Request timed out."), RuntimeError("502 Bad Gateway"))
    metric = Faithfulness(ChatModelJudge(model))
    judged = judge_records(records, [metric], timeout_s=5)
    assert judged.per_case == {"ok": {"answer_llm.faithfulness": 0.5}}
    assert judged.errors["garbled"]["answer_llm.faithfulness"].startswith("unparsable: no JSON object")
    assert judged.errors["slow"]["answer_llm.faithfulness"].startswith("timeout: ReadTimeout")
    assert judged.errors["down"]["answer_llm.faithfulness"].startswith("error: RuntimeError: 502")
    assert "escalated" not in judged.errors  # not an answer: faithfulness does not apply
    assert judged.aggregate["answer_llm.faithfulness_judged"] == 1
    assert judged.aggregate["answer_llm.faithfulness_failed"] == 3
    assert metric == Faithfulness(metric.judge)  # the runner changed nothing on the metric


def test_a_reply_that_does_not_fit_the_output_model_is_unparsable():
    model = ReplayChatModel().enqueue(json.dumps({"statements": "one"}))
    judged = judge_records([answered()], [Faithfulness(ChatModelJudge(model))], timeout_s=5)
    assert judged.errors["1"]["answer_llm.faithfulness"].startswith("unparsable: StatementGeneratorOutput")
    assert "answer_llm.faithfulness" not in judged.aggregate


def test_a_reply_cut_at_max_tokens_is_named_truncated_not_unparsable():
    from langchain_core.messages import AIMessage

    cut = AIMessage(content='{"statements": ["Open Billing.", "Open Billing.", "Op',
                    response_metadata={"finish_reason": "length"})
    model = ReplayChatModel().enqueue(cut)
    judged = judge_records([answered()], [Faithfulness(ChatModelJudge(model, max_tokens=64))], timeout_s=5)
    assert judged.errors["1"]["answer_llm.faithfulness"].startswith(
        "truncated: StatementGeneratorOutput: the reply reached max_tokens=64")


def test_without_a_chat_model_the_llm_metrics_are_skipped_and_the_report_says_how_to_enable_them(
        tmp_path, hash_embedder):
    assert build_judge(Settings(project_dir=tmp_path)) is None
    records = [answered()]
    metrics, per_case, errors = score(records, hash_embedder, {"a": "Open Billing."})
    assert "answer_llm" not in metrics and not errors
    write_scores(tmp_path, metrics, records, per_case, errors)
    (line,) = judge_summary(metrics, read_scores(tmp_path)[3])
    assert "skipped" in line and "SUPPORTGRAPH_CHAT_MODEL" in line


def test_with_a_judge_the_scores_errors_and_counts_reach_metrics_and_results(tmp_path, hash_embedder):
    model = ReplayChatModel().enqueue(STATEMENTS, VERDICTS, *["not json"] * 4)
    records = [answered()]
    metrics, per_case, errors = score(records, hash_embedder, {"a": "Open Billing."}, ChatModelJudge(model), 5)
    assert metrics["answer_llm"]["faithfulness"] == 0.5 and metrics["answer_llm"]["faithfulness_judged"] == 1
    assert metrics["answer_llm"]["answer_relevancy_failed"] == 1
    assert metrics["answer_llm"]["context_precision_failed"] == 1
    write_scores(tmp_path, metrics, records, per_case, errors)
    row = read_rows(tmp_path)[0]
    assert row["scores"]["answer_llm.faithfulness"] == 0.5
    assert set(row["judge_errors"]) == {"answer_llm.answer_relevancy", "answer_llm.context_precision"}
    summary = judge_summary(metrics, read_scores(tmp_path)[3])
    assert "faithfulness 1 judged, 0 failed" in summary[0] and "unparsable 2" in summary[1]
