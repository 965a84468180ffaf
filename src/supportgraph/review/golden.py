"""Promote a reviewed failure into the golden set: the customer's (redacted) question becomes a new
evaluation case, so the fix is measured and the failure cannot come back unnoticed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from supportgraph.errors import ConfigError, NotFoundError
from supportgraph.evals.datasets import GoldenCase, load_dataset
from supportgraph.store.models import Turn
from supportgraph.store.repository import Store


def case_id_for(turn_id: int) -> str:
    return f"review-{turn_id}"


def promote_to_golden(store: Store, turn_id: int, dataset: Path, *, reference_answer: str, sources: list[str],
                      answerable: bool = True, category: str = "", known_articles: set[str] | None = None
                      ) -> GoldenCase:
    """Append the turn's question to ``dataset`` as case ``review-<turn id>``; refuse duplicates."""
    with store.session() as session:
        turn = session.get(Turn, turn_id)
        if turn is None:
            raise NotFoundError(f"Turn {turn_id} does not exist.", "promote a turn shown on the Transcripts page.")
        question = turn.customer_message.strip()
    if not question:
        raise ConfigError(f"Turn {turn_id} has no question to evaluate.", "promote a turn with a customer message.")
    if answerable and not (sources and reference_answer.strip()):
        raise ConfigError("An answerable case needs a reference answer and at least one source article.",
                          "give --reference and --source, or mark the case unanswerable.")
    unknown = sorted(set(sources) - known_articles) if known_articles is not None else []
    if unknown:
        raise ConfigError(f"Unknown source article(s): {', '.join(unknown)}.", "use article ids from the index.")
    existing = load_dataset(dataset) if dataset.exists() else []
    case = GoldenCase(id=case_id_for(turn_id), question=question, reference_answer=reference_answer.strip(),
                      sources=sources, answerable=answerable, category=category or "review", style="from_review")
    if any(c.id == case.id for c in existing):
        raise ConfigError(f"Turn {turn_id} is already in the golden set as '{case.id}'.", "nothing to do.")
    if any(c.question.strip().lower() == question.lower() for c in existing):
        raise ConfigError("The golden set already has this exact question.", "nothing to do.")
    _append_line(dataset, json.dumps(case.model_dump(), ensure_ascii=False))
    return case


def _append_line(path: Path, line: str) -> None:
    """Append one JSON line durably; a file without a trailing newline gets one first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    needs_newline = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(("\n" if needs_newline else "") + line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
