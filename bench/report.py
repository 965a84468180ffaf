"""Paste the latest `make bench` outputs into docs/benchmarks.md.

Each benchmark's markdown output is saved as <results>/<name>.md; docs/benchmarks.md marks where
each goes with `<!-- bench:<name> -->` ... `<!-- /bench:<name> -->`. Everything between a pair is
replaced, so the prose around the figures stays hand-written and the figures come from the run.

    python bench/report.py [--results DIR] [--doc docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sets import REPO  # noqa: E402

RESULTS = REPO / ".supportgraph" / "bench-results"
MARKER = re.compile(r"(<!-- bench:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)", re.DOTALL)


def paste(doc: str, results: Path) -> tuple[str, list[str], list[str]]:
    """The doc with every marked section replaced by its result file; the names pasted and missing."""
    pasted, missing = [], []

    def replace(match: re.Match) -> str:
        source = results / f"{match['name']}.md"
        if not source.exists() or not source.read_text().strip():  # not run, or still running
            missing.append(match["name"])
            return match.group(0)
        pasted.append(match["name"])
        return f"{match.group(1)}{source.read_text().strip()}\n{match.group(4)}"

    return MARKER.sub(replace, doc), pasted, missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    text, pasted, missing = paste(args.doc.read_text(), args.results)
    args.doc.write_text(text)
    print(f"{args.doc}: pasted {', '.join(pasted) or 'nothing'}"
          + (f"; no result yet for {', '.join(missing)}" if missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
