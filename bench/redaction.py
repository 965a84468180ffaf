"""Redaction benchmark (not a test): prints figures for docs/benchmarks.md.

Engine load time in a fresh process (cold, and after torch/transformers are
already imported, as in the running app, which loads them for embeddings),
then per-message latency p50/p95 over the golden questions, the share of
those questions that redaction changes (they hold no personal data), and the
time for a message of the agent's maximum length (4,000 characters).
With --large, also a 1 MB message.

    .venv/bin/python bench/redaction.py [--large]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from supportgraph import privacy
from supportgraph.evals.retrieval_metrics import percentile

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "evals" / "datasets" / "golden.jsonl"
LOAD = """
import time{pre}
started = time.perf_counter()
from supportgraph import privacy
privacy.warm_up()
print(time.perf_counter() - started)
"""


def load_seconds(preload: str = "") -> float:
    """Build the engine in a fresh process, so imports and model loading are counted."""
    code = LOAD.format(pre=f"\nimport {preload}" if preload else "")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", action="store_true", help="also time a 1 MB message")
    args = parser.parse_args()

    print(f"engine load, cold: {load_seconds():.2f} s")
    print(f"engine load, torch and transformers already imported: {load_seconds('sentence_transformers'):.2f} s")

    privacy.warm_up()
    questions = [json.loads(line)["question"] for line in GOLDEN.read_text().splitlines() if line.strip()]
    latencies, changed = [], 0
    for question in questions:
        started = time.perf_counter()
        redacted, _ = privacy.redact(question)
        latencies.append((time.perf_counter() - started) * 1000)
        changed += redacted != question
    print(f"golden questions: {len(questions)}, changed by redaction: {changed}")
    print(f"per message: p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms")

    longest = (" ".join(questions))[:3950] + " mail jo@example.com"
    started = time.perf_counter()
    privacy.redact(longest)
    print(f"one 4,000-character message: {(time.perf_counter() - started) * 1000:.0f} ms")

    if args.large:
        huge = (" ".join(questions) + " ") * (1_000_000 // len(" ".join(questions)) + 1)
        started = time.perf_counter()
        privacy.redact(huge[:1_000_000])
        print(f"one 1 MB message: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
