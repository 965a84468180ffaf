"""How often the injection detector stops a real customer of a help centre it was not trained on.

Every question of each converted public set (bench/sets.py; the golden set is left out, its questions
are training data) goes through the detector the agent runs on each message
(supportgraph.security.injection.detect). Refused: read as an attack with no question left beside it,
so the customer gets the refusal. Summary guarded: suspicious (score >= SUSPICIOUS), so the reply's
summary line may not repeat the message word for word. No agent, no embeddings: seconds.

    python bench/benign_public.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from sets import benchmark_sets  # noqa: E402

from supportgraph.security.injection import SUSPICIOUS, detect  # noqa: E402


def main() -> None:
    lines = ["| set | questions | refused as an attack | summary guarded (score >= %.1f) | refused, e.g. |" % SUSPICIOUS,
             "|---|---|---|---|---|"]
    for bench_set in benchmark_sets()[1:]:
        questions = [case.question for case in bench_set.cases()]
        verdicts = [detect(q) for q in questions]
        refused = [q for q, v in zip(questions, verdicts) if v.attack and not v.question]
        guarded = sum(v.suspicious for v in verdicts)
        example = refused[0][:90].replace("|", "\\|") if refused else "–"
        lines.append(f"| {bench_set.name} | {len(questions)} | {len(refused)} ({len(refused) / len(questions):.3f}) "
                     f"| {guarded} ({guarded / len(questions):.3f}) | {example} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
