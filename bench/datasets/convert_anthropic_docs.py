"""Convert the Anthropic documentation RAG evaluation set into the benchmark layout.

Source: github.com/anthropics/anthropic-cookbook, commit 4b36a1e1f64361397f4cbe4fbc7cdace338f16f8,
skills/retrieval_augmented_generation/{data/anthropic_docs.json, evaluation/docs_evaluation_dataset.json}
(copied to shared/datasets/anthropic-docs/). Licence: MIT.

One article per documentation chunk, with the ids `bench/retrieval.py::external_set` gives them
(the page path and anchor, slugged), so figures stay comparable with docs/benchmarks.md.

    python bench/datasets/convert_anthropic_docs.py ../shared/datasets/anthropic-docs \
        [--out ../shared/datasets/anthropic-docs/converted]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from layout import Article, Question, counts, write_set


def article_id(link: str) -> str:
    """Same id as bench/retrieval.py::external_set."""
    return re.sub(r"[^a-z0-9]+", "-", link.lower().split("/en/", 1)[-1]).strip("-")


def convert(raw: Path) -> tuple[list[Article], list[Question]]:
    articles = [Article(article_id(doc["chunk_link"]), doc["chunk_heading"], doc["text"])
                for doc in json.loads((raw / "anthropic_docs.json").read_text())]
    questions = [Question(q["id"], q["question"], q["correct_answer"],
                          list(dict.fromkeys(article_id(link) for link in q["correct_chunks"])))
                 for q in json.loads((raw / "docs_evaluation_dataset.json").read_text())]
    return articles, questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="folder holding anthropic_docs.json and docs_evaluation_dataset.json")
    parser.add_argument("--out", type=Path, help="default: RAW/converted")
    args = parser.parse_args()
    articles, questions = convert(args.raw)
    licence = args.raw / "LICENSE"
    write_set(args.out or args.raw / "converted", articles, questions, licence if licence.exists() else None)
    print(counts(articles, questions))


if __name__ == "__main__":
    main()
