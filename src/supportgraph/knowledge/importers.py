"""Import help-centre exports into knowledge/ articles.

- CSV or JSONL of question/answer pairs, as Zendesk or Intercom FAQ exports
  look (columns such as question/title/name and answer/body/content).
- A folder of markdown, HTML or text files (HTML converted with markdownify).
Each imported item becomes one file; bad rows are reported, good ones kept.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from markdownify import markdownify

from supportgraph.errors import KnowledgeError
from supportgraph.knowledge.articles import ArticleProblem
from supportgraph.knowledge.editing import TYPE_FOLDERS, new_article, save_article_text

QUESTION_COLUMNS = ("question", "title", "name", "subject")
ANSWER_COLUMNS = ("answer", "body", "content", "text", "html")


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    problems: list[ArticleProblem] = field(default_factory=list)


def slugify(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-") or "article"


def import_path(source: Path, knowledge_dir: Path, type: str = "faq", product_area: str = "general") -> ImportReport:
    if type not in TYPE_FOLDERS:
        raise KnowledgeError(f"Unknown article type '{type}'.", f"use one of: {', '.join(TYPE_FOLDERS)}.")
    if source.is_dir():
        return _import_folder(source, knowledge_dir, type)
    if source.suffix.lower() in (".csv", ".jsonl", ".json"):
        return _import_pairs(source, knowledge_dir, type, product_area)
    raise KnowledgeError(f"Cannot import {source}.", "pass a .csv or .jsonl of question/answer pairs, or a folder.")


def _rows(source: Path) -> list[dict]:
    text = source.read_text(encoding="utf-8-sig")
    if source.suffix.lower() == ".csv":
        return list(csv.DictReader(text.splitlines()))
    if source.suffix.lower() == ".json":
        data = json.loads(text)
        return data if isinstance(data, list) else data.get("articles", [])
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _pick(row: dict, names: tuple[str, ...]) -> str:
    lowered = {str(k).strip().lower(): v for k, v in row.items()}
    return next((str(lowered[n]).strip() for n in names if lowered.get(n)), "")


def _import_pairs(source: Path, knowledge_dir: Path, type: str, product_area: str) -> ImportReport:
    report = ImportReport()
    try:
        rows = _rows(source)
    except (json.JSONDecodeError, csv.Error, UnicodeDecodeError) as error:
        raise KnowledgeError(f"{source} could not be read ({error}).", "export it again as UTF-8 CSV or JSONL.") from None
    for number, row in enumerate(rows, 1):
        question, answer = _pick(row, QUESTION_COLUMNS), _pick(row, ANSWER_COLUMNS)
        where = f"{source.name}:{number}"
        if not question or not answer:
            report.problems.append(ArticleProblem(where, "has no question or no answer.",
                                                  f"give every row a {QUESTION_COLUMNS[0]} and an {ANSWER_COLUMNS[0]}."))
            continue
        if "<" in answer and ">" in answer:
            answer = markdownify(answer, heading_style="ATX").strip()
        article_id = slugify(_pick(row, ("id",)) or question)
        tags = [t.strip() for t in _pick(row, ("tags", "labels")).replace(";", ",").split(",") if t.strip()]
        try:
            new_article(knowledge_dir, id=article_id, title=question, type=type, body=answer,
                        product_area=_pick(row, ("product_area", "section", "category")) or product_area, tags=tags)
            report.created.append(article_id)
        except KnowledgeError as error:
            report.problems.append(ArticleProblem(where, error.message, error.fix))
    return report


def _import_folder(source: Path, knowledge_dir: Path, type: str) -> ImportReport:
    report = ImportReport()
    for path in sorted(p for p in source.rglob("*") if p.suffix.lower() in (".md", ".markdown", ".html", ".htm", ".txt")):
        relative = path.relative_to(source).with_suffix(".md").as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix.lower() in (".html", ".htm"):
            text = markdownify(text, heading_style="ATX", strip=["script", "style"]).strip()
        try:
            report.created.append(save_article_text(knowledge_dir, text, f"{TYPE_FOLDERS[type]}/{relative}").id)
        except KnowledgeError as error:
            report.problems.append(ArticleProblem(path.name, error.message, error.fix))
    return report
