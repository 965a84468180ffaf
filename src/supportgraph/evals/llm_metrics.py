"""RAGAS' LLM-judged metrics, run only when a chat model is configured.

Each metric is a small frozen class given its judge (and embeddings) in the
constructor; `judge_records` scores every record it applies to and never
changes a metric. A judgement that fails (unparsable reply, timeout, provider
error, no score) leaves that question without the score and records why, so
one bad reply never stops the run; the aggregate says how many were judged.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from statistics import mean

from supportgraph.evals.judge import ChatModelJudge, JudgeError, LocalRagasEmbeddings
from supportgraph.evals.runner import EvalRecord

GROUP = "answer_llm"


def _ragas():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ragas.metrics import collections
    return collections


@dataclass(frozen=True)
class _RagasJudged:
    """A RAGAS metric built once with its judge; subclasses say when it applies and what it reads."""

    judge: ChatModelJudge
    _metric: object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_metric", self._build(_ragas()))

    async def ascore(self, r: EvalRecord) -> float:
        return (await self._metric.ascore(**self._inputs(r))).value


@dataclass(frozen=True)
class Faithfulness(_RagasJudged):
    """Share of the answer's steps, as statements, supported by the retrieved passages."""

    contexts: int = 5
    name: str = f"{GROUP}.faithfulness"
    max_calls = 2  # statements, then verdicts

    def _build(self, ragas):
        return ragas.Faithfulness(llm=self.judge)

    def applies(self, r: EvalRecord) -> bool:
        return r.outcome == "answered" and bool(r.retrieved_contexts)

    def _inputs(self, r: EvalRecord) -> dict:
        return {"user_input": r.question, "response": "\n".join(r.steps) or r.answer,
                "retrieved_contexts": r.retrieved_contexts[: self.contexts]}


@dataclass(frozen=True)
class AnswerRelevancy(_RagasJudged):
    """How well questions generated back from the answer match the customer's question (local embeddings)."""

    embeddings: LocalRagasEmbeddings
    strictness: int = 3
    name: str = f"{GROUP}.answer_relevancy"

    @property
    def max_calls(self) -> int:
        return self.strictness

    def _build(self, ragas):
        return ragas.AnswerRelevancy(llm=self.judge, embeddings=self.embeddings, strictness=self.strictness)

    def applies(self, r: EvalRecord) -> bool:
        return r.outcome == "answered"

    def _inputs(self, r: EvalRecord) -> dict:
        return {"user_input": r.question, "response": r.answer}


@dataclass(frozen=True)
class ContextPrecision(_RagasJudged):
    """Whether the passages useful for the reference answer are ranked first (one judgement per passage)."""

    contexts: int = 5
    name: str = f"{GROUP}.context_precision"

    @property
    def max_calls(self) -> int:
        return self.contexts

    def _build(self, ragas):
        return ragas.ContextPrecision(llm=self.judge)

    def applies(self, r: EvalRecord) -> bool:
        return r.answerable and bool(r.reference_answer.strip()) and bool(r.retrieved_contexts)

    def _inputs(self, r: EvalRecord) -> dict:
        return {"user_input": r.question, "reference": r.reference_answer,
                "retrieved_contexts": r.retrieved_contexts[: self.contexts]}


def llm_metrics(judge: ChatModelJudge, embeddings: LocalRagasEmbeddings) -> tuple:
    return Faithfulness(judge), AnswerRelevancy(judge, embeddings), ContextPrecision(judge)


@dataclass(frozen=True)
class Judged:
    per_case: dict[str, dict[str, float]]  # case id -> metric name -> score in [0, 1]
    errors: dict[str, dict[str, str]]      # case id -> metric name -> "kind: detail"
    aggregate: dict[str, float]            # name -> mean of the judged; name_judged / name_failed -> counts


async def _one(metric, record: EvalRecord, timeout_s: float) -> float:
    try:
        value = await asyncio.wait_for(metric.ascore(record), timeout_s * metric.max_calls)
    except JudgeError:
        raise
    except TimeoutError:
        raise JudgeError("timeout", f"no verdict within {timeout_s * metric.max_calls:.0f} s") from None
    except Exception as error:  # noqa: BLE001 - RAGAS' own checks (empty input, ...) fail one judgement only
        raise JudgeError("error", f"{type(error).__name__}: {error}"[:300]) from None
    if value is None or math.isnan(value):
        raise JudgeError("no_score", "the judge's reply left nothing to score")
    return min(1.0, max(0.0, float(value)))


async def _judge_all(records, metrics, timeout_s) -> Judged:
    per_case: dict[str, dict[str, float]] = {}
    errors: dict[str, dict[str, str]] = {}
    aggregate: dict[str, float] = {}
    for metric in metrics:
        scores, failed = [], 0
        for record in records:
            if not metric.applies(record):
                continue
            try:
                value = await _one(metric, record, timeout_s)
            except JudgeError as error:
                errors.setdefault(record.id, {})[metric.name] = str(error)
                failed += 1
                continue
            per_case.setdefault(record.id, {})[metric.name] = round(value, 4)
            scores.append(value)
        if scores:
            aggregate[metric.name] = round(mean(scores), 4)
        aggregate[f"{metric.name}_judged"] = len(scores)
        aggregate[f"{metric.name}_failed"] = failed
    return Judged(per_case, errors, aggregate)


def judge_records(records: list[EvalRecord], metrics, timeout_s: float) -> Judged:
    """Score every record each metric applies to, one judgement at a time; ``timeout_s`` per model call."""
    return asyncio.run(_judge_all(records, metrics, timeout_s))
