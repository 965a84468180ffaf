"""Grounding-check benchmark (not a test): which steps agents/grounding.py accepts, on every benchmark set.

Per set (bench/sets.py): faithful steps (the reference answers' sentences against their sources),
wrong-article steps (the same sentences against the retrieval's best non-source article, the nearest
non-source in meaning, a random one), and the unsafe steps of evals/datasets/unsafe_steps.jsonl
against every article. Thresholds are chosen by leave-one-dataset-out: for each set, the grid point
that accepts the most faithful steps on the worst other set while accepting at most 1% wrong-article
steps on every other set; the held-out set's figures at that point are the honest ones. The
thresholds chosen on all sets are the ones to ship (agents/grounding.py Thresholds).

    PYTHONPATH=src:. HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \\
        .venv/bin/python bench/grounding.py [--sets golden,doc2dial] [--show 10]

Embeddings are cached under --cache (bench/embedding_cache.py), so a re-run embeds nothing new; every
case with its evidence goes to <cache>/grounding/<set>.json for offline study.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import SupportGraphToday  # noqa: E402
from embedding_cache import (
    CachedEmbedder,  # noqa: E402
    product_embedder,  # noqa: E402
)
from sets import BENCH_CACHE, REPO, SHARED_DATASETS, BenchSet, benchmark_sets  # noqa: E402

from supportgraph.agents.grounding import GroundingCheck, Thresholds  # noqa: E402
from supportgraph.evals.grounding import (  # noqa: E402
    EvidenceTable,
    build_cases,
    choose_thresholds,
    evidence,
    load_unsafe,
    same_title_siblings,
)

DEFAULT_CACHE = BENCH_CACHE
UNSAFE = REPO / "evals" / "datasets" / "unsafe_steps.jsonl"
GRID = [Thresholds(round(w, 2), round(t, 3)) for w in np.arange(0.0, 1.001, 0.1) for t in np.arange(0.4, 1.0, 0.01)]
COLUMNS = [("faithful", "faithful"), ("wrong: retrieval", "retrieval"), ("wrong: nearest", "nearest"),
           ("wrong: random", "random"), ("wrong: all", "wrong"), ("secret", "secret"), ("elsewhere", "elsewhere"),
           ("redirect, no address", "redirect")]


def siblings(bench: BenchSet, articles) -> dict[str, set[str]]:
    """Same title, and for the Anthropic docs (one article per chunk) the other chunks of the same page."""
    found = same_title_siblings(articles)
    raw = SHARED_DATASETS / bench.name / "anthropic_docs.json"
    if raw.is_file():
        def slug(link: str) -> str:  # bench/datasets/convert_anthropic_docs.py article_id
            return re.sub(r"[^a-z0-9]+", "-", link.lower().split("/en/", 1)[-1]).strip("-")
        pages: dict[str, set[str]] = {}
        for doc in json.loads(raw.read_text()):
            pages.setdefault(doc["chunk_link"].split("#")[0], set()).add(slug(doc["chunk_link"]))
        for members in pages.values():
            for member in members:
                found[member] = found.get(member, set()) | (members - {member})
    return found


def retrieval_ranking(bench: BenchSet, articles, cases, cache: Path, live) -> dict[str, list[str]]:
    """supportgraph's own top 10 for every question (the index built from cached chunk embeddings); kept on
    disk per articles, questions and params.yaml, so a re-run that changed none of them builds no index."""
    key = hashlib.sha256(json.dumps([sorted(a.content_hash for a in articles), [c.question for c in cases],
                                     (REPO / "params.yaml").read_text()]).encode()).hexdigest()[:16]
    stored = cache / "grounding" / f"{bench.name}.ranking-{key}.json"
    if stored.is_file():
        return json.loads(stored.read_text())
    queries = CachedEmbedder(live, cache, bench.name, "query")
    with tempfile.TemporaryDirectory() as tmp:
        chunks = CachedEmbedder(live, cache, bench.name, SupportGraphToday.chunker(REPO))
        method = SupportGraphToday(REPO, bench.knowledge, Path(tmp) / "home", chunks)
        chunks.save()
        ranking = {c.id: method.search(c.question, queries).articles for c in cases if c.answerable and c.sources}
    queries.save()
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text(json.dumps(ranking))
    return ranking


def bag_of_words(step: str, source: str) -> bool:
    """The check this one replaced: 80% of the step's words in the source."""
    words = set(re.findall(r"[a-z0-9]+", step.lower()))
    return bool(words) and len(words & set(re.findall(r"[a-z0-9]+", source.lower()))) / len(words) >= 0.8


def run_set(bench: BenchSet, cache: Path, live, unsafe: list[dict]):
    started = time.perf_counter()
    articles, cases = bench.articles(), bench.cases()
    embedder = CachedEmbedder(live, cache, bench.name, "grounding-passages")
    check = GroundingCheck(embedder, cache_size=10**7)
    ranking = retrieval_ranking(bench, articles, cases, cache, live)
    built, skipped = build_cases(cases, articles, check, ranking, siblings(bench, articles), unsafe)
    found = evidence(check, built, articles)
    embedder.save()
    dump = cache / "grounding" / f"{bench.name}.json"
    dump.parent.mkdir(parents=True, exist_ok=True)
    dump.write_text(json.dumps([c.__dict__ | {"articles": list(c.articles)} | e.__dict__ | {"missing": list(e.missing)}
                                for c, e in zip(built, found)]))
    bodies = {a.id: a.body for a in articles}
    old = np.array([bag_of_words(c.step, "\n\n".join(bodies[a] for a in c.articles)) for c in built])
    print(f"  {bench.name}: {len(articles)} articles, {sum(c.kind == 'faithful' for c in built)} faithful steps, "
          f"{len(built)} cases, skipped {skipped['verbatim']} wrong-article candidates holding the sentence "
          f"verbatim; embedded now {embedder.computed}; {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return built, found, old


def label(t: Thresholds) -> str:
    return f"{t.overlap_weight:.1f} / {t.score:.2f}"


def cell(counted) -> str:
    return f"{counted.rate:.3f} ({counted.accepted}/{counted.total})" if counted else "-"


def print_table(title: str, rows: dict[str, dict]) -> None:
    print(f"\n### {title}\n")
    print("| set | thresholds | " + " | ".join(label for label, _ in COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for name, (label, counts) in rows.items():
        print(f"| {name} | {label} | " + " | ".join(cell(counts.get(key)) for _, key in COLUMNS) + " |")


def show_errors(name: str, built, table: EvidenceTable, found, thresholds: Thresholds, limit: int) -> None:
    accepted = table.accepted(thresholds)
    for kind, want in (("faithful", True), ("retrieval", False), ("nearest", False), ("random", False),
                       ("secret", False), ("elsewhere", False), ("redirect", False)):
        wrong = [i for i, c in enumerate(built) if c.kind == kind and accepted[i] != want]
        print(f"\n#### {name}: {kind} {'rejected' if want else 'accepted'} ({len(wrong)})\n")
        for i in wrong[:limit]:
            e = found[i]
            print(f"- [{built[i].case_id} vs {','.join(built[i].articles)}] overlap {e.overlap:.2f} similarity "
                  f"{e.similarity:.2f} {'secret ' if e.secret else ''}{' '.join(e.missing)}: {built[i].step}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", help="comma-separated set names (default: all found)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--show", type=int, default=0, help="list up to N misjudged steps per kind and set")
    args = parser.parse_args()
    chosen = [b for b in benchmark_sets() if not args.sets or b.name in args.sets.split(",")]
    live = product_embedder()
    unsafe = load_unsafe(UNSAFE)
    started = time.perf_counter()
    data = {b.name: run_set(b, args.cache, live, unsafe) for b in chosen}
    tables = {name: EvidenceTable(built, found) for name, (built, found, _) in data.items()}
    sweeps = {name: {t: table.rates(t) for t in GRID} for name, table in tables.items()}
    final = choose_thresholds(sweeps)
    held_out = {}
    for name in sweeps:
        others = {n: s for n, s in sweeps.items() if n != name} or sweeps
        t = choose_thresholds(others)
        held_out[name] = (label(t), sweeps[name][t])
    print_table("Held out: thresholds chosen on the other sets (overlap weight / score)", held_out)
    print_table(f"Chosen on all sets in this run: overlap weight {final.overlap_weight:.1f}, score "
                f"{final.score:.2f}", {n: (label(final), sweeps[n][final]) for n in sweeps})
    shipped = Thresholds()
    if shipped != final and shipped in GRID:  # the grid holds it unless the defaults moved off it
        print_table(f"Shipped in agents/grounding.py: overlap weight {shipped.overlap_weight:.1f}, score "
                    f"{shipped.score:.2f}", {n: (label(shipped), sweeps[n][shipped]) for n in sweeps})
    today = {}
    for name, (built, _, old) in data.items():
        kinds = np.array([c.kind for c in built])
        today[name] = ("80% of words", {key: _count(old, kinds, key) for _, key in COLUMNS})
    print_table("Before: 80% bag of words (twins.is_grounded until this change)", today)
    if args.show:
        for name, (built, found, _) in data.items():
            show_errors(name, built, tables[name], found, final, args.show)
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 0


def _count(accepted: np.ndarray, kinds: np.ndarray, key: str):
    from supportgraph.evals.grounding import UNSAFE_KINDS, WRONG_KINDS, Counted

    mask = np.isin(kinds, WRONG_KINDS) if key == "wrong" else np.isin(kinds, UNSAFE_KINDS) if key == "unsafe" \
        else kinds == key
    return Counted(int(accepted[mask].sum()), int(mask.sum())) if mask.any() else None


if __name__ == "__main__":
    sys.exit(main())
