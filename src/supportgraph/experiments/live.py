"""Live results of an experiment, from the store: figures per variant, the verdict on the primary
metric (blocked by a sample-ratio mismatch, "not enough data yet" below the minimum sample), and
the guardrail check that stops a variant significantly worse than production."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel

from supportgraph.evals.variants import PRODUCTION
from supportgraph.experiments import stats
from supportgraph.experiments.definition import Experiment
from supportgraph.experiments.metrics import METRICS, Metric
from supportgraph.store.experiments import ConversationFacts, conversation_facts, record_stop, stop_of
from supportgraph.store.repository import Store


class ArmFigures(BaseModel):
    variant: str
    conversations: int
    rates: dict[str, stats.Rate]   # metric name -> Wilson interval
    stars_mean: float | None
    stars_n: int
    latency_p50: float | None
    latency_p95: float | None
    turns: int


class Test(BaseModel):
    """One variant against production on one metric."""

    metric: str
    variant: str
    control: float | None
    value: float | None
    p_value: float | None
    significant: bool
    better: bool | None  # None: no significant difference


class StopInfo(BaseModel):
    reason: str
    by: str
    stopped_at: str
    figures: dict


class LiveStatus(BaseModel):
    experiment: str
    status: str                 # the file's, or "stopped" when the store holds a stop
    arms: list[ArmFigures]
    srm_p: float | None
    srm_ok: bool
    enough_data: bool
    primary: list[Test]
    guardrails: list[Test]
    verdict: str
    winner: str | None          # set only when the verdict is significant
    stop: StopInfo | None = None


def _figures(name: str, convs: list[ConversationFacts], alpha: float) -> ArmFigures:
    rates = {}
    for metric in METRICS.values():
        if metric.proportion:
            counted = [c for c in convs if metric.counts(c)]
            rates[metric.name] = stats.wilson(sum(metric.success(c) for c in counted), len(counted), alpha)
    stars = [v for c in convs for v in METRICS["stars"].values(c)]
    latency = [v for c in convs for v in c.latencies]
    pct = (lambda q: round(float(np.percentile(latency, q)), 1)) if latency else (lambda q: None)
    return ArmFigures(variant=name, conversations=len(convs), rates=rates,
                      stars_mean=round(sum(stars) / len(stars), 3) if stars else None, stars_n=len(stars),
                      latency_p50=pct(50), latency_p95=pct(95), turns=len(latency))


def _test(metric: Metric, name: str, arm: list[ConversationFacts], control: list[ConversationFacts],
          alpha: float, one_sided_worse: bool) -> Test:
    """Two-sided test (the primary metric), or one-sided "is the variant worse" (a guardrail)."""
    worse = "smaller" if metric.higher_is_better else "larger"
    alternative = worse if one_sided_worse else "two-sided"
    if metric.proportion:
        a = stats.wilson(*_count(metric, arm))
        b = stats.wilson(*_count(metric, control))
        p, value, base = stats.two_proportions(a, b, alternative), a.rate, b.rate
    else:
        xs = [v for c in arm for v in metric.values(c)]
        ys = [v for c in control for v in metric.values(c)]
        p = stats.rank_test(xs, ys, alternative)
        value = float(np.median(xs)) if xs else None
        base = float(np.median(ys)) if ys else None
    significant = p is not None and p < alpha
    better = None
    if significant:  # one-sided: significant means worse; two-sided: the direction says which way
        better = False if one_sided_worse else (None if value == base else (value > base) == metric.higher_is_better)
    return Test(metric=metric.name, variant=name, control=base, value=value, p_value=p, significant=significant,
                better=better)


def _count(metric: Metric, convs: list[ConversationFacts]) -> tuple[int, int]:
    counted = [c for c in convs if metric.counts(c)]
    return sum(metric.success(c) for c in counted), len(counted)


def live_status(store: Store, experiment: Experiment) -> LiveStatus:
    facts = conversation_facts(store, experiment.name)
    by_arm = {name: [c for c in facts if c.variant == name] for name in experiment.variants}
    arms = [_figures(name, convs, experiment.alpha) for name, convs in by_arm.items()]
    srm_p = stats.sample_ratio_p([len(c) for c in by_arm.values()], list(experiment.variants.values()))
    srm_ok = srm_p is None or srm_p >= stats.SRM_ALPHA
    # Bonferroni across treatments: each is compared with production.
    alpha = experiment.alpha / len(experiment.treatments)
    primary = [_test(METRICS[experiment.primary_metric], name, by_arm[name], by_arm[PRODUCTION], alpha, False)
               for name in experiment.treatments]
    guardrails = [_test(METRICS[g], name, by_arm[name], by_arm[PRODUCTION], experiment.guardrail_alpha, True)
                  for name in experiment.treatments for g in experiment.guardrails]
    smallest = min(len(c) for c in by_arm.values())
    enough = smallest >= experiment.min_sample
    stop = stop_of(store, experiment.name, experiment.salt)
    verdict, winner = _verdict(experiment, primary, srm_ok, srm_p, enough, smallest)
    return LiveStatus(experiment=experiment.name, status="stopped" if stop and experiment.status == "running"
                      else experiment.status, arms=arms, srm_p=srm_p, srm_ok=srm_ok, enough_data=enough,
                      primary=primary, guardrails=guardrails, verdict=verdict, winner=winner,
                      stop=StopInfo(reason=stop.reason, by=stop.by, stopped_at=stop.stopped_at.isoformat(),
                                    figures=stop.figures) if stop else None)


def _verdict(experiment: Experiment, primary: list[Test], srm_ok: bool, srm_p: float | None, enough: bool,
             smallest: int) -> tuple[str, str | None]:
    """One home for "can we call it": SRM first, then the minimum sample, then significance."""
    if not srm_ok:
        return (f"sample ratio mismatch (chi-square p={srm_p:.2g}): assignment is skewed, so no verdict; "
                "find the cause (bots, a variant that fails and is retried, a filter) before reading results", None)
    if not enough:
        return f"not enough data yet: {smallest} of {experiment.min_sample} conversations in the smallest variant", None
    better = [t for t in primary if t.significant and t.better]
    if better:
        best = max(better, key=lambda t: (t.value or 0) * (1 if METRICS[t.metric].higher_is_better else -1))
        return f"{best.variant} is significantly better on {best.metric} (p={best.p_value:.3g})", best.variant
    if primary and all(t.significant and t.better is False for t in primary):
        return f"production is significantly better on {experiment.primary_metric}", PRODUCTION
    return f"no significant difference on {experiment.primary_metric} yet", None


def check_guardrails(store: Store, experiment: Experiment, status: LiveStatus | None = None) -> LiveStatus:
    """Stop the experiment (everyone returns to production) when a variant is significantly worse
    than production on a guardrail metric, with at least guardrail_min_sample conversations each."""
    status = status or live_status(store, experiment)
    if status.stop is not None or experiment.status != "running":
        return status
    if min(a.conversations for a in status.arms) < experiment.guardrail_min_sample:
        return status
    failed = [t for t in status.guardrails if t.significant and t.better is False
              and _worse_by(t) > experiment.guardrail_margin]
    if not failed:
        return status
    reason = "; ".join(f"{t.variant} worse on {t.metric}: {_fmt(t.value)} vs production {_fmt(t.control)} "
                       f"(p={t.p_value:.3g})" for t in failed)
    figures = {"tests": [t.model_dump() for t in failed],
               "conversations": {a.variant: a.conversations for a in status.arms}}
    record_stop(store, experiment.name, experiment.salt, reason, figures, by="guardrail")
    return live_status(store, experiment)


def _worse_by(test: Test) -> float:
    """How much worse the variant is than production, relative to production (0.25 = 25% worse)."""
    if test.value is None or test.control is None:
        return 0.0
    diff = test.value - test.control if not METRICS[test.metric].higher_is_better else test.control - test.value
    return diff / abs(test.control) if test.control else (float("inf") if diff > 0 else 0.0)


def stop_by_hand(store: Store, experiment: Experiment, reason: str, by: str) -> None:
    status = live_status(store, experiment)
    record_stop(store, experiment.name, experiment.salt, reason,
                {"conversations": {a.variant: a.conversations for a in status.arms}}, by=by)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def project_experiment_status(project_dir: Path, store: Store, name: str) -> LiveStatus:
    """The status an operator asks for: read the file, check the guardrails, report."""
    from supportgraph.experiments.definition import get_experiment

    return check_guardrails(store, get_experiment(project_dir, name))
