"""Answer a golden set with the real agent, one record per question.

Each question runs in its own thread. When the agent asks its one clarifying
question, the runner answers it the way a customer would (the case's
`clarify_reply`, else "I use the web app in a browser") and records the
final outcome, so device questions are judged on the answer they lead to.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from supportgraph.agents.service import SupportAgent
from supportgraph.evals.datasets import GoldenCase

DEFAULT_CLARIFY_REPLY = "I use the web app in a browser."


class EvalRecord(BaseModel):
    id: str
    question: str
    reference_answer: str
    sources: list[str]
    answerable: bool
    category: str = ""
    outcome: str
    first_outcome: str
    answer: str
    summary: str
    steps: list[str]
    cited: list[str]
    retrieved: list[str] = Field(description="Article ids, best first.")
    retrieved_contexts: list[str] = Field(description="Best passage of each retrieved article.")
    confidence: float
    latency_ms: float
    turns: int
    flags: list[str]


def answer_case(agent: SupportAgent, case: GoldenCase) -> EvalRecord:
    thread = f"eval-{case.id}"
    first = agent.ask(case.question, thread_id=thread, channel="eval")
    result, turns = first, 1
    if first.outcome == "clarify":
        reply = getattr(case, "clarify_reply", None) or DEFAULT_CLARIFY_REPLY
        result, turns = agent.ask(reply, thread_id=thread, channel="eval"), 2
    hits = [agent.retriever.article(r["id"]) for r in result.retrieved]
    return EvalRecord(
        id=case.id, question=case.question, reference_answer=case.reference_answer, sources=case.sources,
        answerable=case.answerable, category=case.category, outcome=result.outcome, first_outcome=first.outcome,
        answer=result.answer, summary=result.summary, steps=result.steps, cited=[c.id for c in result.citations],
        retrieved=[r["id"] for r in result.retrieved],
        retrieved_contexts=[a.body[:2000] for a in hits if a is not None],
        confidence=result.confidence, latency_ms=first.latency_ms, turns=turns, flags=result.flags)


def answer_dataset(agent: SupportAgent, cases: list[GoldenCase],
                   progress: Callable[[int, int], None] | None = None) -> list[EvalRecord]:
    records = []
    for number, case in enumerate(cases, 1):
        records.append(answer_case(agent, case))
        if progress:
            progress(number, len(cases))
    return records


def write_records(records: list[EvalRecord], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")


def read_records(path: Path) -> list[EvalRecord]:
    return [EvalRecord(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
