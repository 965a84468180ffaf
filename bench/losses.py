"""Where supportgraph loses: head-to-head at rank 1 against each baseline, from bench/compare.py's dumps.

For every set, counts the answerable questions a baseline ranks a source first and supportgraph
does not (and the reverse), then shows a few of those questions with what supportgraph put first.
Reads <cache>/candidates/<set>/<method>.json only: nothing is embedded or indexed.

    python bench/losses.py [--cache DIR] [--examples 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import DEFAULT_CACHE  # noqa: E402
from sets import benchmark_sets  # noqa: E402

OURS = "supportgraph"


def first_is_source(record: dict) -> bool:
    return bool(record["ranking"]) and record["ranking"][0] in record["sources"]


def load_rankings(folder: Path) -> dict[str, dict[str, dict]]:
    """method -> question id -> record, answerable questions only."""
    return {path.stem: {r["id"]: r for r in json.loads(path.read_text())["questions"] if r["answerable"]}
            for path in sorted(folder.glob("*.json"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--examples", type=int, default=3)
    args = parser.parse_args()
    questions = {b.name: {c.id: c.question for c in b.cases()} for b in benchmark_sets()}
    print("| set | baseline | baseline right, supportgraph wrong | supportgraph right, baseline wrong |")
    print("|---|---|---|---|")
    examples = []
    for folder in sorted(p for p in (args.cache / "candidates").iterdir() if p.is_dir()):
        rankings = load_rankings(folder)
        ours = rankings.pop(OURS, None)
        if ours is None:
            continue
        for method, theirs in rankings.items():
            lost = [qid for qid in ours if first_is_source(theirs[qid]) and not first_is_source(ours[qid])]
            won = [qid for qid in ours if first_is_source(ours[qid]) and not first_is_source(theirs[qid])]
            print(f"| {folder.name} | {method} | {len(lost)} | {len(won)} |")
            examples += [(folder.name, method, qid, ours[qid]) for qid in lost[: args.examples]]
    for set_name, method, qid, record in examples:
        asked = questions.get(set_name, {}).get(qid, "?")
        print(f"\n- {set_name} {qid} ({method} right): {asked!r}\n  sources {record['sources']}, "
              f"supportgraph first: {record['ranking'][:2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
