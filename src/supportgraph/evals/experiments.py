"""Experiments: compare two evaluated variants, then conclude: promote the winner, archive the
loser, and record the decision, the metrics of both and what was learned.

The log is evals/experiments.jsonl (one `ExperimentRecord` per line, read with `load_log`) and
its human twin evals/EXPERIMENTS.md. Variants are declared in params.yaml (variants.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from ruamel.yaml import YAML

from supportgraph.errors import ConfigError, NotFoundError
from supportgraph.evals.report import read_rows
from supportgraph.evals.variants import (
    PRODUCTION,
    Variant,
    apply_overrides,
    get_variant,
    is_evaluated,
    results_dir,
)
from supportgraph.prompts.history import prompts_dir_for

LOG = Path("evals/experiments.jsonl")
LOG_MD = Path("evals/EXPERIMENTS.md")
COMPARISON = Path("evals/results/experiment.md")
# (metric, higher is better): accuracy, retrieval, answer quality, then latency.
COMPARED = (("outcome.accuracy", True), ("outcome.answerable_answered", True), ("outcome.unanswerable_abstained", True),
            ("retrieval.recall_at_1", True), ("retrieval.recall_at_5", True), ("retrieval.mrr_at_10", True),
            ("answer.citation_accuracy", True), ("answer.semantic_similarity", True), ("answer.rouge_l", True),
            ("answer_llm.faithfulness", True), ("answer_llm.answer_relevancy", True),
            ("answer_llm.context_precision", True), ("latency.p50_ms", False), ("latency.p95_ms", False))


class VariantResult(BaseModel):
    name: str
    prompts: str = Field(description="The prompt label the variant answered with.")
    retrieval: dict[str, Any] = Field(default_factory=dict, description="Its overrides of params.yaml retrieval.")
    brief: dict[str, Any] = Field(default_factory=dict, description="Its overrides of the brief.")
    metrics: dict[str, dict[str, float]] = Field(description="Its metrics.json, nested as DVC shows it.")


class ExperimentRecord(BaseModel):
    """One concluded experiment: a line of evals/experiments.jsonl."""

    date: dt.datetime
    winner: VariantResult
    loser: VariantResult
    learning: str
    promoted: list[str] = Field(default_factory=list, description="What concluding changed, one line each.")
    commit: str | None = Field(default=None, description="git HEAD when concluded (the evaluated state).")
    questions: int = 0
    evidence: str = Field(default="", description="Why the winner won: the test and its p-value, or 'forced'.")
    experiment: str | None = Field(default=None, description="The online experiment concluded, if any.")
    online: dict | None = Field(default=None, description="Its live figures per variant when concluded.")


@dataclass(frozen=True)
class Side:
    variant: Variant
    metrics: dict
    rows: dict[str, dict]  # case id -> results.jsonl row


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side

    def metric(self, side: Side, name: str) -> float | None:
        group, _, key = name.partition(".")
        return side.metrics.get(group, {}).get(key)

    def table(self) -> list[tuple[str, float | None, float | None, str]]:
        """(metric, A, B, which is better: the variant's name, "=" or "") for each metric either has."""
        rows = []
        for name, higher in COMPARED:
            a, b = self.metric(self.a, name), self.metric(self.b, name)
            if a is None and b is None:
                continue
            better = "" if a is None or b is None else "=" if a == b else \
                (self.a if (a > b) == higher else self.b).variant.name
            rows.append((name, a, b, better))
        return rows

    def paired_test(self) -> tuple[int, int, float]:
        """McNemar's exact test on the per-question outcome (right or wrong, the same questions):
        (questions only A got right, only B got right, p-value)."""
        from statsmodels.stats.contingency_tables import mcnemar

        shared = [i for i in self.a.rows if i in self.b.rows]
        right = lambda row: row.get("scores", {}).get("outcome.accuracy", 0.0) >= 1.0  # noqa: E731
        only_a = sum(right(self.a.rows[i]) and not right(self.b.rows[i]) for i in shared)
        only_b = sum(right(self.b.rows[i]) and not right(self.a.rows[i]) for i in shared)
        both = sum(right(self.a.rows[i]) and right(self.b.rows[i]) for i in shared)
        table = [[both, only_a], [only_b, len(shared) - both - only_a - only_b]]
        return only_a, only_b, float(mcnemar(table, exact=True).pvalue)

    def differing(self) -> list[str]:
        """Case ids (in both) whose outcome or answer differ; changed outcomes first."""
        shared = [i for i in self.a.rows if i in self.b.rows]
        outcome = [i for i in shared if self.a.rows[i]["outcome"] != self.b.rows[i]["outcome"]]
        answer = [i for i in shared if i not in outcome and self.a.rows[i]["answer"] != self.b.rows[i]["answer"]]
        return outcome + answer


def load_side(project_dir: Path, name: str) -> Side:
    variant = get_variant(project_dir, name)
    folder = results_dir(project_dir, name)
    if not is_evaluated(project_dir, name):
        raise NotFoundError(f"'{name}' has not been evaluated yet ({folder.relative_to(project_dir)} has no "
                            "metrics.json and results.jsonl).", "run `dvc repro` (it evaluates every variant).")
    return Side(variant, json.loads((folder / "metrics.json").read_text()),
                {row["id"]: row for row in read_rows(folder)})


def compare(project_dir: Path, a: str, b: str) -> Comparison:
    if a == b:
        raise ConfigError("Compare two different variants.", f"e.g. `supportgraph experiment compare {PRODUCTION} "
                          "NAME`.")
    comparison = Comparison(load_side(project_dir, a), load_side(project_dir, b))
    if set(comparison.a.rows) != set(comparison.b.rows):
        raise ConfigError(f"'{a}' and '{b}' answered different questions.",
                          "run `dvc repro` so both answer the current golden set.")
    return comparison


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def format_value(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def render_comparison(c: Comparison, limit: int = 40) -> str:
    a, b = c.a.variant.name, c.b.variant.name
    lines = [f"# Experiment: {a} vs {b}", "", f"- {a}: {c.a.variant.describe()}", f"- {b}: {c.b.variant.describe()}",
             f"- questions: {len(c.a.rows)}", "", f"| metric | {a} | {b} | better |", "|---|---|---|---|"]
    lines += [f"| {name} | {format_value(x)} | {format_value(y)} | {better} |" for name, x, y, better in c.table()]
    ids = c.differing()
    lines += ["", f"## Side by side: {len(ids)} questions answered differently"
              + (f" (first {limit} shown)" if len(ids) > limit else ""), ""]
    for case_id in ids[:limit]:
        x, y = c.a.rows[case_id], c.b.rows[case_id]
        header = " | ".join(f"{n}: {r['outcome']}, cited {', '.join(r['cited'][:1]) or '-'}" for n, r in ((a, x), (b, y)))
        lines += [f"### {case_id}: {x['question']}", "", f"- reference: {x['reference_answer']}",
                  f"- sources: {', '.join(x['sources']) or 'none (should hand over)'}", "",
                  f"| {header} |", "|---|---|", f"| {_cell(x['answer'])} | {_cell(y['answer'])} |", ""]
    if not ids:
        lines.append("Both variants gave the same answer to every question.")
    lines += ["", "Conclude with `supportgraph experiment conclude --winner NAME --loser NAME --learning \"...\"`."]
    return "\n".join(lines) + "\n"


def _git_head(project_dir: Path) -> str | None:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project_dir, capture_output=True,
                            text=True, check=False)
    return result.stdout.strip() or None


def offline_evidence(c: Comparison, alpha: float = 0.05) -> tuple[bool, str]:
    """Whether the golden set shows A better than B beyond chance, and the sentence saying so."""
    if not c.differing():
        prompt_only = not any(v.retrieval or v.brief for v in (c.a.variant, c.b.variant))
        why = " (with no chat model configured a prompt label alone changes nothing)" if prompt_only else ""
        return False, (f"{c.a.variant.name} and {c.b.variant.name} gave the same answer to every question{why}: "
                       "there is no winner")
    only_a, only_b, p = c.paired_test()
    line = (f"McNemar on {len(c.a.rows)} questions: only {c.a.variant.name} right on {only_a}, only "
            f"{c.b.variant.name} right on {only_b}, p={p:.3g}")
    return only_a > only_b and p < alpha, line


def _promote(project_dir: Path, winner: Variant) -> list[str]:
    """Make the winner the served configuration: its prompt label's versions become production,
    its retrieval overrides are written into params.yaml `retrieval` and its brief overrides into
    the brief (comments kept)."""
    from supportgraph.prompts.labels import promote_label
    from supportgraph.prompts.registry import PromptRegistry

    done = []
    if winner.prompts != PRODUCTION:
        changed = promote_label(PromptRegistry(prompts_dir_for(project_dir)), winner.prompts)
        done += [f"prompts: {name} production {old} -> {new}" for name, (old, new) in changed.items()]
    if winner.retrieval:
        path = project_dir / "params.yaml"
        yaml = YAML()
        data = yaml.load(path.read_text())
        done += [f"params.yaml: retrieval.{key} {old} -> {new}"
                 for key, old, new in apply_overrides(data.setdefault("retrieval", {}), winner.retrieval)]
        with path.open("w") as handle:
            yaml.dump(data, handle)
    if winner.brief:
        path = project_dir / "agents" / "support" / "brief.yaml"
        yaml = YAML()
        data = yaml.load(path.read_text())
        done += [f"brief.yaml: {key} {old} -> {new}" for key, old, new in apply_overrides(data, winner.brief)]
        with path.open("w") as handle:
            yaml.dump(data, handle)
    return done


def _retire(project_dir: Path, names: list[str]) -> None:
    """Remove concluded variants from params.yaml (their definitions and metrics stay in the log)
    and their results folders (DVC stops evaluating them)."""
    path = project_dir / "params.yaml"
    yaml = YAML()
    data = yaml.load(path.read_text())
    variants = (data.get("experiment") or {}).get("variants") or {}
    for name in names:
        variants.pop(name, None)
        shutil.rmtree(results_dir(project_dir, name), ignore_errors=True)
    with path.open("w") as handle:
        yaml.dump(data, handle)


def conclude(project_dir: Path, winner: str, loser: str, learning: str, force: bool = False) -> ExperimentRecord:
    """Offline conclude: refused unless the golden set shows the winner better (McNemar), or forced."""
    if not learning.strip():
        raise ConfigError("An experiment needs its learning recorded.", "pass --learning \"what this showed\".")
    c = compare(project_dir, winner, loser)
    significant, evidence = offline_evidence(c)
    if not significant and not force:
        raise ConfigError(f"Not concluding: {evidence}.", "collect more evidence (a larger golden set, or an online "
                          "experiment: `supportgraph experiment status NAME`), or pass --force to decide anyway.")
    record = ExperimentRecord(evidence=evidence if significant else f"forced ({evidence})",
        date=dt.datetime.now(dt.UTC).replace(microsecond=0), learning=learning.strip(),
        winner=variant_result(c.a.variant, c.a.metrics), loser=variant_result(c.b.variant, c.b.metrics),
        commit=_git_head(project_dir), questions=len(c.a.rows))
    record.promoted = _promote(project_dir, c.a.variant)
    _retire(project_dir, [n for n in (winner, loser) if n != PRODUCTION])
    append_log(project_dir, record, c)
    return record


def variant_result(variant: Variant, metrics: dict) -> VariantResult:
    return VariantResult(name=variant.name, prompts=variant.prompts, retrieval=variant.retrieval,
                         brief=variant.brief, metrics=metrics)


def append_log(project_dir: Path, record: ExperimentRecord, c: Comparison | None) -> None:
    log = project_dir / LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(record.model_dump_json() + "\n")
    human = project_dir / LOG_MD
    if not human.exists():
        human.write_text("# Experiments\n\nConcluded experiments, newest last; written by "
                         "`supportgraph experiment conclude` (machine-readable: experiments.jsonl).\n")
    w, lo = record.winner.name, record.loser.name
    describe = lambda r: Variant(name=r.name, prompts=r.prompts, retrieval=r.retrieval, brief=r.brief).describe()  # noqa: E731
    lines = ["", f"## {record.date:%Y-%m-%d}: {w} over {lo}" + (f" (experiment {record.experiment})"
                                                               if record.experiment else ""), "",
             f"- winner: **{w}** ({describe(record.winner)})", f"- archived: {lo} ({describe(record.loser)})",
             f"- evaluated at: {record.commit or 'uncommitted'}, {record.questions} questions",
             f"- evidence: {record.evidence or 'not recorded'}",
             f"- promoted: {'; '.join(record.promoted) or 'nothing (the winner already serves)'}",
             f"- learning: {record.learning}"]
    if record.online:
        lines += ["", f"| online | {w} | {lo} |", "|---|---|---|"]
        lines += [f"| {name} | {values.get(w, '–')} | {values.get(lo, '–')} |" for name, values in record.online.items()]
    if c is not None:
        lines += ["", f"| offline metric | {w} | {lo} |", "|---|---|---|"]
        lines += [f"| {name} | {format_value(x)} | {format_value(y)} |" for name, x, y, _ in c.table()]
    with human.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def load_log(project_dir: Path) -> list[ExperimentRecord]:
    """Every concluded experiment, oldest first (evals/experiments.jsonl)."""
    path = project_dir / LOG
    if not path.exists():
        return []
    return [ExperimentRecord.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
