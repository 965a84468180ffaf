"""LLM-judged RAGAS metrics against a real OpenAI-compatible server on loopback (llama.cpp serving
Gemma 3 270M). The model is weak: this checks behaviour, not judgement quality. Every judgement
reaches the server, each question ends with a score in [0, 1] or a named judge error, and the
judge's answers are usable: with decoding constrained to RAGAS' output schemas, answer relevancy
and context precision score at least one question, and faithfulness scores or says its reply was
cut at max_tokens."""

from __future__ import annotations

import pytest

from supportgraph.agents.models import build_chat_model
from supportgraph.evals.datasets import load_dataset
from supportgraph.evals.judge import ChatModelJudge, LocalRagasEmbeddings
from supportgraph.evals.llm_metrics import (
    AnswerRelevancy,
    ContextPrecision,
    Faithfulness,
    judge_records,
)
from supportgraph.evals.runner import answer_dataset
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KINDS = ("unparsable", "truncated", "timeout", "error", "no_score")


def test_the_judge_scores_or_names_its_error_for_every_question(llama_server, real_agent, real_settings,
                                                                  real_embedder):
    cases = [c for c in load_dataset(REPO / "evals/datasets/golden.jsonl") if c.id in ("g001", "g002")]
    records = answer_dataset(real_agent, cases)  # the deterministic twins answer; the model only judges
    settings = real_settings.model_copy(update={"chat_base_url": llama_server.url, "chat_model": "gemma-3-270m",
                                                "chat_json_mode": "json_object", "llm_timeout_s": 90.0,
                                                "llm_retries": 0})
    judge = ChatModelJudge(build_chat_model(settings), "gemma-3-270m", max_tokens=256, json_mode="json_object")
    # One passage and one generated question keep it to five model calls on a shared 2-core machine.
    metrics = (Faithfulness(judge, contexts=1), AnswerRelevancy(judge, LocalRagasEmbeddings(real_embedder),
                                                               strictness=1), ContextPrecision(judge, contexts=1))
    before = llama_server.requests()
    judged = judge_records(records, metrics, settings.llm_timeout_s)

    assert judge.calls > 0 and llama_server.requests() - before == judge.calls, judged.errors
    for metric in metrics:
        applicable = [r.id for r in records if metric.applies(r)]
        assert applicable, metric.name
        for case_id in applicable:
            score = judged.per_case.get(case_id, {}).get(metric.name)
            error = judged.errors.get(case_id, {}).get(metric.name)
            assert (score is None) != (error is None), (case_id, metric.name)
            if score is not None:
                assert 0.0 <= score <= 1.0
            else:
                assert error.split(":")[0] in KINDS, error
        counts = judged.aggregate
        if isinstance(metric, Faithfulness) and counts[f"{metric.name}_judged"] == 0:
            # Gemma 270M repeats list items until max_tokens on RAGAS' statement lists: that must be
            # reported as such, not as a malformed reply.
            cut = [e[metric.name] for e in judged.errors.values() if metric.name in e]
            assert cut and all(reason.startswith("truncated: ") for reason in cut), judged.errors
            continue
        assert counts[f"{metric.name}_judged"] > 0, (metric.name, judged.errors)
        assert counts[f"{metric.name}_judged"] + counts[f"{metric.name}_failed"] == len(applicable)
        assert counts[f"{metric.name}_judged"] == sum(metric.name in s for s in judged.per_case.values())
        assert (metric.name in counts) == (counts[f"{metric.name}_judged"] > 0)
