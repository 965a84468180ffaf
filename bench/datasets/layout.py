"""The layout every converted benchmark set is written in (read by bench/sets.py).

    <out>/knowledge/<id>.md   one article: front matter `id` and `title`, then the text
    <out>/questions.jsonl     {id, question, reference_answer, sources, answerable} per line
    <out>/LICENSE             the source's licence, copied when it ships one

Converters build `Article`/`Question` values and call `write_set`; nothing else
writes these files, so the format has one home.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

ID_SAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    reference_answer: str
    sources: list[str]
    answerable: bool = True
    extra: dict = field(default_factory=dict)  # source-specific fields (kept in the JSON line)


def slug(text: str, max_length: int = 80) -> str:
    """A lowercase id fragment supportgraph accepts (letters, digits, '-')."""
    return ID_SAFE.sub("-", text.lower()).strip("-")[:max_length].strip("-") or "untitled"


def render_article(article: Article) -> str:
    front = yaml.safe_dump({"id": article.id, "title": article.title}, allow_unicode=True, sort_keys=False,
                           width=10_000)
    return f"---\n{front}---\n{article.body.strip()}\n"


def write_set(out: Path, articles: list[Article], questions: list[Question], license_file: Path | None = None) -> None:
    """Write a fresh set folder (an existing knowledge/ is replaced); README.md is left alone."""
    ids = [a.id for a in articles]
    if len(ids) != len(set(ids)):
        raise ValueError("article ids must be unique")
    known = set(ids)
    for q in questions:
        missing = [s for s in q.sources if s not in known]
        if missing or (q.answerable != bool(q.sources)):
            raise ValueError(f"question {q.id}: sources {missing or q.sources} do not fit answerable={q.answerable}")
    knowledge = out / "knowledge"
    shutil.rmtree(knowledge, ignore_errors=True)
    knowledge.mkdir(parents=True)
    for article in articles:
        (knowledge / f"{article.id}.md").write_text(render_article(article), encoding="utf-8")
    lines = []
    for q in questions:
        record = {k: v for k, v in asdict(q).items() if k != "extra"} | q.extra
        lines.append(json.dumps(record, ensure_ascii=False))
    (out / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if license_file is not None:
        shutil.copyfile(license_file, out / "LICENSE")


def counts(articles: list[Article], questions: list[Question]) -> dict[str, int]:
    """The figures each set's README states."""
    return {"articles": len(articles), "questions": len(questions),
            "unanswerable": sum(not q.answerable for q in questions),
            "two_or_more_sources": sum(len(q.sources) >= 2 for q in questions)}
