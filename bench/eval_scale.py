"""Evaluation at scale (not a test): 600 questions over 500 articles, timed per phase.

Articles: the 68 sample articles, the 232 external documentation chunks, and
variants of the sample articles up to 500. Questions: the golden set, the
external set, and golden questions again (as new cases) up to 600.

    .venv/bin/python bench/eval_scale.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).parent))
from embedding_cache import product_embedder  # noqa: E402
from retrieval import EXTERNAL, REPO, external_set  # noqa: E402

from supportgraph.config import Settings  # noqa: E402
from supportgraph.evals.datasets import load_dataset  # noqa: E402
from supportgraph.evals.evaluate import answer_with_fresh_index, score  # noqa: E402
from supportgraph.knowledge.articles import load_articles  # noqa: E402
from supportgraph.knowledge.editing import render_article  # noqa: E402

ARTICLES, QUESTIONS = 500, 600


def main() -> int:
    embedder = product_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        knowledge = Path(tmp) / "kb"
        shutil.copytree(REPO / "knowledge", knowledge)
        cases = load_dataset(REPO / "evals/datasets/golden.jsonl") + external_set(EXTERNAL, knowledge / "external")
        sample = load_articles(REPO / "knowledge").articles
        count, n = len(load_articles(knowledge).articles), 0
        while count < ARTICLES:
            base = sample[n % len(sample)]
            variant = base.model_copy(update={"id": f"{base.id}-v{n}", "title": f"{base.title} (region {n})"})
            (knowledge / "variants").mkdir(exist_ok=True)
            (knowledge / "variants" / f"{variant.id}.md").write_text(render_article(variant))
            count, n = count + 1, n + 1
        golden = cases[:210]
        while len(cases) < QUESTIONS:
            case = golden[len(cases) % len(golden)]
            cases.append(case.model_copy(update={"id": f"{case.id}-r{len(cases)}"}))
        settings = Settings(project_dir=REPO, knowledge_dir=knowledge)
        started = time.perf_counter()
        records, info = answer_with_fresh_index(settings, cases, embedder)
        answered = time.perf_counter() - started
        started = time.perf_counter()
        metrics, _, _ = score(records, embedder, info["articles"])
        scored = time.perf_counter() - started
    print(f"\n### Evaluation at scale ({len(info['articles'])} articles, {len(records)} questions, 2 cores)\n")
    print("| phase | time |\n|---|---|")
    print(f"| index + answer every question | {answered:.0f} s |")
    print(f"| score (own metrics + RAGAS) | {scored:.0f} s |")
    print(f"| total | {answered + scored:.0f} s |")
    print(f"\nlatency p50 {metrics['latency']['p50_ms']} ms, p95 {metrics['latency']['p95_ms']} ms per question")
    return 0


if __name__ == "__main__":
    sys.exit(main())
