"""Evaluation outputs as DVC users expect them, and the quality gate.

- metrics.json: nested metrics (DVC metrics; `dvc metrics diff` compares commits)
- results.jsonl: one line per question with its answer, scores and judge errors
- per_category.csv: a row per category (DVC plots)
- report.md: the failing questions with what the agent said, the reference, and what was retrieved
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from supportgraph.evals.runner import EvalRecord

PLOTTED = ("retrieval.recall_at_5", "outcome.accuracy", "answer.semantic_similarity")


@dataclass(frozen=True)
class GateFailure:
    metric: str
    value: float | None
    threshold: float


def check_gate(metrics: dict, thresholds: dict[str, float]) -> list[GateFailure]:
    """Every threshold (dotted metric name -> minimum) that the metrics do not reach."""
    failures = []
    for name, threshold in thresholds.items():
        group, _, key = name.partition(".")
        value = metrics.get(group, {}).get(key)
        if value is None or value < threshold:
            failures.append(GateFailure(name, value, threshold))
    return failures


def failing(records: list[EvalRecord], per_case: dict[str, dict[str, float]]) -> list[EvalRecord]:
    """Cases with a wrong outcome, a wrong citation or a missed source; worst first."""
    checks = ("outcome.accuracy", "answer.citation_accuracy", "retrieval.recall_at_5")

    def scores(r: EvalRecord) -> tuple[float, ...]:
        return tuple(per_case.get(r.id, {}).get(name, 1.0) for name in checks)
    return sorted((r for r in records if min(scores(r)) < 1.0), key=scores)


def write_scores(out: Path, metrics: dict, records: list[EvalRecord], per_case: dict[str, dict[str, float]],
                 judge_errors: dict[str, dict[str, str]] | None = None) -> None:
    """metrics.json, results.jsonl (answers + per-question scores and judge errors) and per_category.csv."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    errors = judge_errors or {}
    with open(out / "results.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            row = record.model_dump() | {"scores": per_case.get(record.id, {})}
            if record.id in errors:
                row["judge_errors"] = errors[record.id]
            handle.write(json.dumps(row) + "\n")
    _per_category(out / "per_category.csv", records, per_case)


EXTRA = ("scores", "judge_errors")  # what results.jsonl adds to each EvalRecord


def read_scores(out: Path) -> tuple[dict, list[EvalRecord], dict[str, dict[str, float]], dict[str, dict[str, str]]]:
    """What write_scores wrote: metrics, records, per-case scores and per-case judge errors."""
    metrics = json.loads((out / "metrics.json").read_text())
    rows = read_rows(out)
    return metrics, [EvalRecord(**{k: v for k, v in r.items() if k not in EXTRA}) for r in rows], \
        {r["id"]: r["scores"] for r in rows}, {r["id"]: r["judge_errors"] for r in rows if "judge_errors" in r}


def read_rows(out: Path) -> list[dict]:
    """results.jsonl as written: each record with its "scores" and, when a judge failed, "judge_errors"."""
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]


def judge_summary(metrics: dict, judge_errors: dict[str, dict[str, str]]) -> list[str]:
    """Report lines on the LLM-judged metrics: why they are missing, or how many were judged and what failed."""
    judged = metrics.get("answer_llm")
    if not judged:
        return [("LLM-judged RAGAS metrics (faithfulness, answer relevancy, context precision) were skipped: "
                 "no chat model is configured; set SUPPORTGRAPH_CHAT_MODEL (or SUPPORTGRAPH_CHAT_BASE_URL) "
                 "and rerun the score stage to add them.")]
    names = sorted(k.removesuffix("_judged") for k in judged if k.endswith("_judged"))
    lines = ["LLM-judged RAGAS metrics: " + "; ".join(
        f"{name} {judged[f'{name}_judged']} judged, {judged[f'{name}_failed']} failed" for name in names) + "."]
    kinds: dict[str, int] = defaultdict(int)
    for errors in judge_errors.values():
        for error in errors.values():
            kinds[error.split(":", 1)[0]] += 1
    if kinds:
        lines.append("Judge failures by kind (per question in results.jsonl, `judge_errors`): "
                     + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) + ".")
    return lines


def _per_category(path: Path, records: list[EvalRecord], per_case: dict[str, dict[str, float]]) -> None:
    groups: dict[str, list[EvalRecord]] = defaultdict(list)
    for record in records:
        groups[record.category or "uncategorised"].append(record)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "questions", *[m.split(".")[1] for m in PLOTTED]])
        for category, members in sorted(groups.items()):
            row = [category, len(members)]
            for metric in PLOTTED:
                values = [per_case[r.id][metric] for r in members if metric in per_case[r.id]]
                row.append(round(mean(values), 4) if values else "")
            writer.writerow(row)


def render_report(metrics: dict, records: list[EvalRecord], per_case: dict[str, dict[str, float]],
                  failures: list[GateFailure], context: dict, limit: int = 25,
                  judge_lines: list[str] = ()) -> str:
    lines = ["# Evaluation report", ""]
    for key, value in context.items():
        lines.append(f"- {key}: `{value}`")
    if judge_lines:
        lines += ["", *judge_lines]
    lines += ["", "| metric | value |", "|---|---|"]
    for group, values in sorted(metrics.items()):
        for name, value in sorted(values.items()):
            lines.append(f"| {group}.{name} | {value} |")
    if failures:
        lines += ["", "## Gate: below threshold", "", "| metric | value | threshold |", "|---|---|---|"]
        lines += [f"| {f.metric} | {f.value} | {f.threshold} |" for f in failures]
    bad = failing(records, per_case)
    lines += ["", f"## Failing questions ({len(bad)} of {len(records)}; worst {min(limit, len(bad))} shown)", ""]
    for record in bad[:limit]:
        expected = "answer" if record.answerable else "hand over (no article answers this)"
        lines += [f"### {record.id}: {record.question}", "",
                  f"- expected: {expected}; sources: {', '.join(record.sources) or 'none'}",
                  f"- outcome: **{record.outcome}** (confidence {record.confidence:.2f}); cited: "
                  f"{', '.join(record.cited) or 'nothing'}",
                  f"- retrieved: {', '.join(record.retrieved[:5]) or 'nothing'}",
                  f"- reference: {record.reference_answer}", "", "<details><summary>What the agent said</summary>", "",
                  record.answer, "", "</details>", ""]
    return "\n".join(lines) + "\n"


def write_history(path: Path, rows: list[dict]) -> None:
    """Metric history as CSV, a DVC plot (`dvc plots show`: quality over evaluated commits)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
