"""The stand-up checklist: five tracks of the implementation checklist, each computed from the
project's real state (files, git, index, store). A track is green when all its checks pass;
otherwise it is empty, with the reason. If a box is empty, that's your next sprint."""

from __future__ import annotations

import datetime as dt
import json

from pydantic import BaseModel
from sqlalchemy import func, select

from supportgraph.agents.brief import load_brief
from supportgraph.config import Settings
from supportgraph.errors import SupportGraphError
from supportgraph.store.models import ConversationReview, ConversationTag, Feedback
from supportgraph.store.repository import Store

WEEK = dt.timedelta(days=7)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Check(BaseModel):
    name: str
    ok: bool
    detail: str


class Track(BaseModel):
    name: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def reason(self) -> str:
        """Why the box is empty (the first failing check), or what makes it green."""
        failing = [c for c in self.checks if not c.ok]
        return failing[0].detail if failing else "; ".join(c.detail for c in self.checks)


def _process(settings: Settings) -> Track:
    try:
        brief = load_brief(settings.brief_path)
    except SupportGraphError as error:
        return Track(name="Process", checks=[Check(name="brief", ok=False, detail=error.message)])
    return Track(name="Process", checks=[
        Check(name="goal", ok=bool(brief.business_goal.strip()), detail="business goal written"
              if brief.business_goal.strip() else "the brief has no business goal"),
        Check(name="owner", ok=bool(brief.owner.strip()), detail=f"owner: {brief.owner}"),
        Check(name="metric", ok=bool(brief.success_metric.thresholds),
              detail=_n(len(brief.success_metric.thresholds), "metric threshold") if brief.success_metric.thresholds
              else "the success metric has no thresholds to gate on"),
        Check(name="guardrails", ok=bool(brief.guardrails.forbidden_actions),
              detail=f"{_n(len(brief.guardrails.forbidden_actions), 'forbidden action')} enforced"
              if brief.guardrails.forbidden_actions else "no forbidden actions in the brief's guardrails"),
    ])


def _experimentation(settings: Settings) -> Track:
    from supportgraph.evals.experiments import load_log

    try:
        log = load_log(settings.project_dir)
    except ValueError as error:  # a hand-edited line that no longer validates
        return Track(name="Experimentation", checks=[Check(
            name="log", ok=False, detail=f"evals/experiments.jsonl is unreadable ({str(error).splitlines()[0]})")])
    concluded = [record for record in log if record.winner.metrics and record.loser.metrics]
    if not concluded:
        detail = ("no experiment concluded yet: declare a variant in params.yaml (experiment.variants), "
                  "`dvc repro`, then `supportgraph experiment compare` and `conclude`")
    else:
        last = concluded[-1]
        detail = (f"{_n(len(concluded), 'experiment')} with metrics logged; last {last.date:%Y-%m-%d}: "
                  f"{last.winner.name} kept over {last.loser.name}")
    return Track(name="Experimentation", checks=[Check(name="experiments", ok=bool(concluded), detail=detail)])


def _context(settings: Settings) -> Track:
    from supportgraph.knowledge.articles import load_articles
    from supportgraph.knowledge.chats import chats_collection
    from supportgraph.knowledge.index import kb_version, read_manifest

    manifest = read_manifest(settings.index_dir)
    if not manifest:
        return Track(name="Context layer", checks=[
            Check(name="index", ok=False, detail="the index is not built: run `supportgraph index`")])
    loaded = load_articles(settings.knowledge_dir)
    types = sorted({a.type for a in loaded.articles})
    on_disk = kb_version({a.id: a.content_hash for a in loaded.articles})
    built = dt.datetime.fromisoformat(manifest["built_at"])
    return Track(name="Context layer", checks=[
        Check(name="sources", ok=bool(loaded.articles),
              detail=f"{_n(len(manifest['articles']), 'article')} indexed ({', '.join(types)}), "
                     f"{_n(chats_collection(settings).count(), 'resolved chat')} searchable"),
        Check(name="fresh", ok=manifest["kb_version"] == on_disk,
              detail=f"index matches the knowledge base (built {built:%Y-%m-%d %H:%M})"
              if manifest["kb_version"] == on_disk else "the knowledge base changed since the index was built: "
              "run `supportgraph index`"),
        Check(name="problems", ok=not loaded.problems, detail="every article parses" if not loaded.problems
              else f"{_n(len(loaded.problems), 'article')} with problems: run `supportgraph kb validate`"),
    ])


def _versioning(settings: Settings) -> Track:
    from supportgraph.evals.report import check_gate
    from supportgraph.prompts.history import prompts_dir_for
    from supportgraph.prompts.lint import lint
    from supportgraph.prompts.registry import PromptRegistry

    checks = []
    prompts_dir = prompts_dir_for(settings.project_dir)
    try:
        registry = PromptRegistry(prompts_dir)
        problems = lint(registry)
        checks.append(Check(name="prompts", ok=bool(registry.prompts) and not problems,
                            detail=f"{_n(len(registry.prompts), 'prompt')} versioned with changelogs" if not problems
                            else f"prompt lint: {problems[0].message}"))
    except SupportGraphError as error:
        checks.append(Check(name="prompts", ok=False, detail=error.message))
    ci = settings.project_dir / ".ci" / "run"
    checks.append(Check(name="ci", ok=ci.exists(), detail="CI runs the tests and the evaluation gate" if ci.exists()
                        else "no .ci/run: CI does not gate prompt and knowledge edits"))
    metrics_path = settings.project_dir / "evals" / "results" / "metrics.json"
    if not metrics_path.exists():
        checks.append(Check(name="gate", ok=False, detail="no evaluation results: run `dvc repro`"))
    else:
        try:
            thresholds = load_brief(settings.brief_path).success_metric.thresholds
        except SupportGraphError as error:
            thresholds, failures = {}, [error.message]
        else:
            failures = [f"last evaluation fails the gate on {f.metric}"
                        for f in check_gate(json.loads(metrics_path.read_text()), thresholds)]
        checks.append(Check(name="gate", ok=not failures, detail=failures[0] if failures
                            else f"last evaluation passes the brief's {_n(len(thresholds), 'gate')}"))
    return Track(name="Versioning", checks=checks)


def _feedback(settings: Settings, store: Store, now: dt.datetime) -> Track:
    since = now - WEEK
    with store.session() as session:
        ratings = session.scalar(select(func.count()).select_from(Feedback).where(Feedback.updated_at >= since))
        reviews = session.scalar(select(func.count()).select_from(ConversationReview)
                                 .where(ConversationReview.reviewed_at >= since))
        tags = session.scalar(select(func.count()).select_from(ConversationTag)
                              .where(ConversationTag.created_at >= since))
    return Track(name="Feedback", checks=[
        Check(name="ratings", ok=ratings > 0, detail=f"{_n(ratings, 'rating')} in the last 7 days" if ratings
              else "no ratings in the last 7 days: is the chat's feedback reaching the store?"),
        Check(name="review", ok=reviews > 0, detail=f"{_n(reviews, 'conversation')} reviewed this week" if reviews
              else "no transcript review in the last 7 days: open the review queue"),
        Check(name="backlog", ok=tags > 0, detail=f"{_n(tags, 'tag')} feeding the backlog" if tags
              else "no tags in the last 7 days, so no backlog items: tag what the review finds"),
    ])


def checklist(settings: Settings, store: Store | None = None, now: dt.datetime | None = None) -> list[Track]:
    store = store or Store(settings.database_url)
    now = now or dt.datetime.now(dt.UTC)
    return [_process(settings), _experimentation(settings), _context(settings), _versioning(settings),
            _feedback(settings, store, now)]
