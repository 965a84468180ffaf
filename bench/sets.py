"""The benchmark sets: one place that says which exist and how to load them.

The golden set is the repo's own help centre; every other set is a folder under
shared/datasets written by bench/datasets/convert_<name>.py (knowledge/ + questions.jsonl,
or the same inside converted/ where the raw files sit beside it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from supportgraph.evals.datasets import GoldenCase, load_dataset
from supportgraph.knowledge.articles import Article, load_articles

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = Path(os.environ.get("SUPPORTGRAPH_BENCH_DATASETS", REPO.parent / "shared" / "datasets"))
# Embeddings and candidate dumps the benchmarks keep between runs (git-ignored, safe to delete).
BENCH_CACHE = Path(os.environ.get("SUPPORTGRAPH_BENCH_CACHE", REPO / ".supportgraph" / "bench-cache"))


@dataclass(frozen=True)
class BenchSet:
    name: str
    knowledge: Path
    questions: Path

    def articles(self) -> list[Article]:
        """What a customer may be shown: staff-only articles are left out, as the agent's filter does."""
        loaded = load_articles(self.knowledge)
        if loaded.problems:
            raise ValueError(f"{self.name}: {len(loaded.problems)} malformed articles, e.g. {loaded.problems[0]}")
        return [a for a in loaded.articles if a.audience == "customer"]

    def cases(self) -> list[GoldenCase]:
        return load_dataset(self.questions)


def converted_folder(folder: Path) -> Path | None:
    for candidate in (folder, folder / "converted"):
        if (candidate / "knowledge").is_dir() and (candidate / "questions.jsonl").is_file():
            return candidate
    return None


def benchmark_sets(shared: Path = SHARED_DATASETS) -> list[BenchSet]:
    """The golden set, then every converted set under ``shared`` in name order."""
    sets = [BenchSet("golden", REPO / "knowledge", REPO / "evals" / "datasets" / "golden.jsonl")]
    for folder in sorted(p for p in shared.iterdir() if p.is_dir()) if shared.is_dir() else []:
        found = converted_folder(folder)
        if found is not None:
            sets.append(BenchSet(folder.name, found / "knowledge", found / "questions.jsonl"))
    return sets
