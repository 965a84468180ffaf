"""Indexing speed per embedding backend, beside the LangChain-style pipeline, in one run (issue #14).

The same articles (every benchmark set's knowledge folder, bench/sets.py) are indexed by the
LangChain-style pipeline (bench/baselines.py's LangChainDense: RecursiveCharacterTextSplitter
1000/200, MiniLM through sentence-transformers, Chroma) and by supportgraph's `build_index` with
each embedding backend (torch, onnx, onnx-int8; knowledge/onnx_embedding.py), set by set in turn
so that load from other work on the machine falls on all of them alike. supportgraph's time is
the whole `supportgraph index`: chunking, chunk and title embeddings, Chroma, BM25 files and the
self-calibration's held-out searches. Models are loaded (and the ONNX files exported) before any
timing; the first-use export time is reported on its own.

Then retrieval quality per backend, each index queried with its own backend (what the agent
does): hit@1, hit@5, recall@5, MRR@10 per set over the answerable questions, and the change
against torch. A backend may be the default only if recall@5 stays within 1 point of torch's on
every set.

    PYTHONPATH=src:. HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
        .venv/bin/python bench/index_speed.py [--sets golden,covid-faq] [--backends torch,onnx-int8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import LangChainDense, SupportGraphToday  # noqa: E402
from sets import REPO, benchmark_sets  # noqa: E402

from supportgraph.config import Settings  # noqa: E402
from supportgraph.evals.retrieval_metrics import HitAtK, MRRAtK, RecallAtK, score_retrieval  # noqa: E402
from supportgraph.knowledge.articles import load_articles  # noqa: E402
from supportgraph.knowledge.embedding import build_embedder  # noqa: E402

BACKENDS = ("torch", "onnx", "onnx-int8")
METRICS = (HitAtK(1), HitAtK(5), RecallAtK(5), MRRAtK(10))
QUALITY = [("hit@1", "hit_at_1"), ("hit@5", "hit_at_5"), ("recall@5", "recall_at_5"), ("MRR@10", "mrr_at_10")]
MAX_RECALL_DROP = 0.01  # the rule: recall@5 within 1 point of torch on every set


class Timer:
    def __init__(self) -> None:
        self.seconds, self.articles, self.chunks = 0.0, 0, 0


def embedders(backends: list[str], models: Path) -> tuple[dict, dict[str, float]]:
    """One embedder per backend, loaded (ONNX: exported) before any timing; the load times."""
    built, loaded = {}, {}
    for backend in backends:
        embedder = build_embedder(Settings(project_dir=REPO, home=models, embedding_backend=backend))
        started = time.perf_counter()
        embedder.warm_up()
        embedder.embed(["warm the kernels up"] * 8)
        loaded[backend] = time.perf_counter() - started
        built[backend] = embedder
    return built, loaded


def quality(index: SupportGraphToday, embedder, cases) -> dict[str, float]:
    answerable = [c for c in cases if c.answerable and c.sources]
    runs = [(index.search(c.question, embedder).articles, c.sources) for c in answerable]
    return {name: result.aggregate for name, result in score_retrieval(runs, METRICS).items()}


def run(sets, backends: list[str], work: Path, with_quality: bool):
    live, loaded = embedders(backends, work / "models")
    langchain_embedder = live.get("torch") or embedders(["torch"], work / "models")[0]["torch"]  # what LangChain uses
    timers = {name: Timer() for name in ["langchain", *backends]}
    scores: dict[str, dict[str, dict[str, float]]] = {}
    for bench in sets:
        articles = load_articles(bench.knowledge).articles  # all of them, as `supportgraph index` takes them
        started = time.perf_counter()
        baseline = LangChainDense(bench.name, articles, langchain_embedder)
        timers["langchain"].seconds += time.perf_counter() - started
        timers["langchain"].articles += len(articles)
        timers["langchain"].chunks += baseline.chunk_count
        cases = bench.cases() if with_quality else []
        for backend in backends:
            started = time.perf_counter()
            index = SupportGraphToday(REPO, bench.knowledge, work / f"{bench.name}-{backend}", live[backend])
            timer = timers[backend]
            timer.seconds += time.perf_counter() - started
            timer.articles += index.report.articles
            timer.chunks += index.report.embedded_chunks
            if with_quality:
                scores.setdefault(bench.name, {})[backend] = quality(index, live[backend], cases)
        print(f"  {bench.name}: {len(articles)} articles indexed by every pipeline", file=sys.stderr)
    return timers, loaded, scores


def speed_table(timers: dict[str, Timer], loaded: dict[str, float], set_names: list[str]) -> list[str]:
    base = timers["langchain"]
    base_rate = base.articles / base.seconds
    lines = [f"### Indexing speed ({base.articles} articles: {', '.join(set_names)}; {os.cpu_count()} CPU cores)", "",
             "| pipeline | chunks | time | articles/s | chunks/s | vs LangChain-style |", "|---|---|---|---|---|---|"]
    labels = {"langchain": "LangChain-style (splitter 1000/200, MiniLM torch, Chroma)"}
    for name, t in timers.items():
        label = labels.get(name, f"supportgraph index, {name}")
        rate = t.articles / t.seconds
        lines.append(f"| {label} | {t.chunks} | {t.seconds:.1f} s | {rate:.1f} | {t.chunks / t.seconds:.0f} | "
                     f"{rate / base_rate:.2f}x |")
    lines += ["", "Model load before timing (ONNX: export on first use, then cached): "
              + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in loaded.items()) + "."]
    return lines


def quality_table(scores: dict[str, dict[str, dict[str, float]]], backends: list[str]) -> list[str]:
    lines = ["", "### Retrieval per backend (supportgraph hybrid, each index queried with its own backend)", "",
             "| set | backend | " + " | ".join(label for label, _ in QUALITY) + " | recall@5 vs torch | hit@1 vs torch |",
             "|---|---|" + "---|" * (len(QUALITY) + 2)]
    worst = {b: 0.0 for b in backends}
    for set_name, by_backend in scores.items():
        torch = by_backend.get("torch")
        for backend, s in by_backend.items():
            delta = {k: (s[k] - torch[k]) * 100 if torch else float("nan") for k in ("recall_at_5", "hit_at_1")}
            worst[backend] = min(worst[backend], delta["recall_at_5"])
            lines.append(f"| {set_name} | {backend} | " + " | ".join(f"{s[key]:.3f}" for _, key in QUALITY)
                         + f" | {delta['recall_at_5']:+.1f} | {delta['hit_at_1']:+.1f} |")
    if "torch" in backends:
        lines += ["", "Within 1 point of torch's recall@5 on every set: " + ", ".join(
            f"{b} {'yes' if worst[b] >= -MAX_RECALL_DROP * 100 - 1e-9 else 'no'} (worst {worst[b]:+.1f})"
            for b in backends if b != "torch") + "."]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", help="comma-separated set names (default: all found)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--no-quality", action="store_true", help="speed only")
    args = parser.parse_args()
    chosen = [b for b in benchmark_sets() if not args.sets or b.name in args.sets.split(",")]
    backends = args.backends.split(",")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        timers, loaded, scores = run(chosen, backends, Path(tmp), not args.no_quality)
    lines = speed_table(timers, loaded, [b.name for b in chosen])
    if scores:
        lines += quality_table(scores, backends)
    print("\n".join(lines))
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
