"""Conclude an online experiment: promote the winner (prompt label, params, brief), archive the
other variants, mark the file concluded, and log the learning with the live figures beside the
offline ones. Refused unless the live results name a winner, or forced (with the reason logged)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from supportgraph.errors import ConfigError, ExperimentStateError
from supportgraph.evals.experiments import (
    ExperimentRecord,
    _git_head,
    _promote,
    _retire,
    append_log,
    compare,
    variant_result,
)
from supportgraph.evals.variants import PRODUCTION, is_evaluated, results_dir
from supportgraph.experiments.definition import check_variants, get_experiment, set_status
from supportgraph.experiments.live import LiveStatus, check_guardrails
from supportgraph.store.repository import Store


def online_figures(status: LiveStatus) -> dict[str, dict[str, str]]:
    """Metric -> variant -> figure as the log shows it (rates with their Wilson interval)."""
    rows: dict[str, dict[str, str]] = {"conversations": {a.variant: str(a.conversations) for a in status.arms}}
    for metric in status.arms[0].rates:
        rows[metric] = {a.variant: _rate(a.rates[metric]) for a in status.arms}
    rows["stars"] = {a.variant: "–" if a.stars_mean is None else f"{a.stars_mean:.2f} (n={a.stars_n})"
                     for a in status.arms}
    rows["latency p50/p95 ms"] = {a.variant: "–" if a.latency_p50 is None else f"{a.latency_p50}/{a.latency_p95}"
                                  for a in status.arms}
    return rows


def _rate(rate) -> str:
    return "–" if rate.rate is None else f"{rate.rate:.3f} [{rate.low:.3f}, {rate.high:.3f}] n={rate.n}"


# The golden-set figures shown beside the live ones: (label, metrics.json section, key, as a rate).
OFFLINE_FIGURES = (("hit@1", "retrieval", "hit_at_1"), ("outcome accuracy", "outcome", "accuracy"),
                   ("answerable answered", "outcome", "answerable_answered"),
                   ("unanswerable handed over", "outcome", "unanswerable_abstained"),
                   ("answer similarity", "answer", "semantic_similarity"), ("latency p50 ms", "latency", "p50_ms"))


def offline_figures(project_dir: Path, variants: list[str]) -> dict[str, dict[str, str]]:
    """Metric -> variant -> its golden-set figure from `dvc repro` ("not evaluated" until then)."""
    metrics = {name: _offline_metrics(project_dir, name) for name in variants}
    rows = {label: {name: (f"{metrics[name][section][key]:g}" if key in metrics[name].get(section, {})
                           else "not evaluated: dvc repro") for name in variants}
            for label, section, key in OFFLINE_FIGURES}
    rows["questions"] = {name: str(metrics[name].get("count", {}).get("questions", "–")) for name in variants}
    return rows


def _offline_metrics(project_dir: Path, name: str) -> dict:
    path = results_dir(project_dir, name) / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def conclude_online(project_dir: Path, store: Store, name: str, learning: str, winner: str | None = None,
                    force: bool = False) -> ExperimentRecord:
    if not learning.strip():
        raise ConfigError("An experiment needs its learning recorded.", "pass --learning \"what this showed\".")
    experiment = get_experiment(project_dir, name)
    if experiment.status == "concluded":
        raise ExperimentStateError(f"Experiment '{name}' is already concluded.", "read it in evals/EXPERIMENTS.md.")
    status = check_guardrails(store, experiment)
    if winner is not None and winner not in experiment.variants:
        raise ConfigError(f"'{winner}' is not a variant of '{name}'.", f"use one of: {', '.join(experiment.variants)}.")
    if not force:
        if status.winner is None:
            raise ExperimentStateError(
                f"Not concluding '{name}': {status.verdict}.",
                "wait for more conversations (`supportgraph experiment status NAME`), or pass --force "
                "--winner NAME to decide without significance (the log says it was forced).")
        if winner is not None and winner != status.winner:
            raise ExperimentStateError(f"The live results favour {status.winner}, not {winner}: {status.verdict}.",
                                       "conclude without --winner, or pass --force to overrule the data.")
    chosen = winner or status.winner
    if chosen is None:
        raise ConfigError("Forcing a conclusion needs the winner named.", "pass --winner NAME.")
    variants = check_variants(project_dir, experiment)
    loser = next(n for n in experiment.variants if n != chosen)
    comparison = compare(project_dir, chosen, loser) if all(is_evaluated(project_dir, n) for n in (chosen, loser)) \
        else None
    evidence = status.verdict if not force else f"forced: {status.verdict}"
    record = ExperimentRecord(
        date=dt.datetime.now(dt.UTC).replace(microsecond=0), learning=learning.strip(), evidence=evidence,
        winner=variant_result(variants[chosen], _offline_metrics(project_dir, chosen)),
        loser=variant_result(variants[loser], _offline_metrics(project_dir, loser)),
        commit=_git_head(project_dir), questions=len(comparison.a.rows) if comparison else 0,
        experiment=name, online=online_figures(status))
    record.promoted = _promote(project_dir, variants[chosen])
    _retire(project_dir, [n for n in experiment.variants if n != PRODUCTION])
    set_status(project_dir, name, "concluded")
    append_log(project_dir, record, comparison)
    return record
