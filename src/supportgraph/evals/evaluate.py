"""Evaluate an agent on any knowledge folder and question file, in a temporary store."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from statistics import mean

from supportgraph.agents.brief import load_brief
from supportgraph.agents.service import SupportAgent
from supportgraph.config import Settings
from supportgraph.evals.datasets import GoldenCase
from supportgraph.evals.judge import ChatModelJudge, LocalRagasEmbeddings
from supportgraph.evals.llm_metrics import judge_records, llm_metrics
from supportgraph.evals.metrics import evaluate, nest
from supportgraph.evals.ragas_metrics import ragas_scores
from supportgraph.evals.runner import EvalRecord, answer_dataset
from supportgraph.evals.variants import Variant, variant_params
from supportgraph.knowledge.embedding import Embedder
from supportgraph.knowledge.index import build_index
from supportgraph.knowledge.retrieval import Retriever

RAGAS_NAMES = ("answer.semantic_similarity", "answer.rouge_l", "context.recall", "context.precision")


def answer_with_fresh_index(settings: Settings, cases: list[GoldenCase], embedder: Embedder,
                            progress: Callable[[int, int], None] | None = None,
                            variant: Variant | None = None) -> tuple[list[EvalRecord], dict]:
    """Index ``settings.knowledge_dir`` into a throwaway home and answer every case there, as the
    served configuration or as an experiment ``variant`` (its prompt label, retrieval params and brief)."""
    variant = variant or Variant()
    with tempfile.TemporaryDirectory(prefix="supportgraph-eval-") as home:
        scratch = settings.model_copy(update={"home": Path(home), "database_url": f"sqlite:///{home}/eval.db"})
        report = build_index(scratch, embedder)
        retriever = Retriever(scratch, embedder, params=variant_params(settings.project_dir, variant))
        brief = variant.brief_for(load_brief(settings.brief_path))
        agent = SupportAgent(scratch, embedder=embedder, retriever=retriever, prompt_label=variant.prompts, brief=brief)
        records = answer_dataset(agent, cases, progress)
        articles = {aid: a.body for aid, a in agent.retriever.articles.items()}
        agent.close()
    return records, {"kb_version": report.kb_version, "articles": articles}


def score(records: list[EvalRecord], embedder: Embedder, articles: dict[str, str],
          judge: ChatModelJudge | None = None, judge_timeout_s: float = 20.0) -> tuple[dict, dict, dict]:
    """Nested metrics (own + offline RAGAS, + LLM-judged RAGAS when a judge is given), per-case
    scores, and per-case judge errors (case id -> metric -> "kind: detail")."""
    flat, per_case = evaluate(records)
    for case_id, values in ragas_scores(records, embedder, articles).items():
        per_case[case_id].update(values)
    for name in RAGAS_NAMES:
        values = [s[name] for s in per_case.values() if name in s]
        flat[name] = round(mean(values), 4) if values else 0.0
    errors: dict[str, dict[str, str]] = {}
    if judge is not None:
        judged = judge_records(records, llm_metrics(judge, LocalRagasEmbeddings(embedder)), judge_timeout_s)
        for case_id, values in judged.per_case.items():
            per_case[case_id].update(values)
        flat.update(judged.aggregate)
        errors = judged.errors
    flat["count.questions"] = len(records)
    flat["count.answerable"] = sum(r.answerable for r in records)
    return nest(flat), per_case, errors
