"""RAGAS metrics that run offline, each given its model explicitly.

No `ragas.evaluate()`: it sets models on the metrics and builds an OpenAI
client when none is given. Here each metric is constructed with what it needs
(the local embedding model for semantic similarity) and scored per sample.
The LLM-judged RAGAS metrics live in llm_metrics.py.
"""

from __future__ import annotations

import warnings

from supportgraph.evals.judge import LocalRagasEmbeddings
from supportgraph.evals.runner import EvalRecord
from supportgraph.knowledge.embedding import Embedder


def ragas_scores(records: list[EvalRecord], embedder: Embedder, articles: dict[str, str]) -> dict[str, dict[str, float]]:
    """Per case: answer.semantic_similarity and answer.rouge_l (answerable cases), and
    context.recall / context.precision (non-LLM, against the source articles' text)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ragas import SingleTurnSample
        from ragas.metrics import (
            NonLLMContextPrecisionWithReference,
            NonLLMContextRecall,
            RougeScore,
            SemanticSimilarity,
        )

        # The modern embedding interface: RAGAS' LangChain wrapper would post a usage event per call.
        similarity = SemanticSimilarity(embeddings=LocalRagasEmbeddings(embedder))
    rouge = RougeScore(rouge_type="rougeL", mode="fmeasure")
    recall, precision = NonLLMContextRecall(), NonLLMContextPrecisionWithReference()
    scores: dict[str, dict[str, float]] = {}
    for record in records:
        if not record.answerable:
            continue
        sample = SingleTurnSample(
            user_input=record.question, response=record.answer, reference=record.reference_answer,
            retrieved_contexts=record.retrieved_contexts[:5] or [""],
            reference_contexts=[articles[s] for s in record.sources if s in articles] or [""])
        scores[record.id] = {
            "answer.semantic_similarity": float(similarity.single_turn_score(sample)),
            "answer.rouge_l": float(rouge.single_turn_score(sample)),
            "context.recall": float(recall.single_turn_score(sample)),
            "context.precision": float(precision.single_turn_score(sample)),
        }
    return scores
