"""What changed since a date: articles, prompts, brief and parameters, and the metric deltas.

Reads git (prompts, knowledge and evaluated metrics are all versioned) and, given the store,
the knowledge base's edit history (store/kb_edits.py: saves from the Knowledge page, the API and
``supportgraph kb edit``, with author and reason, committed or not), so it answers in about a
second. ``since`` is any git date ("2026-11-01", "last monday") or a short form: 7d, 2w, 12h.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from supportgraph.errors import ConfigError
from supportgraph.store.kb_edits import EditInfo, list_edits
from supportgraph.store.repository import Store

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
SHORT = {"h": "hours", "d": "days", "w": "weeks", "m": "months"}
STATUS = {"A": "added", "M": "edited", "D": "removed", "R": "renamed"}
METRICS = "evals/results/metrics.json"


@dataclass
class Changes:
    since: str
    base: str
    head: str
    commits: list[str] = field(default_factory=list)
    articles: list[tuple[str, str]] = field(default_factory=list)   # (status, path)
    prompts: list[tuple[str, str]] = field(default_factory=list)
    changelog_lines: list[str] = field(default_factory=list)
    config: list[tuple[str, str]] = field(default_factory=list)     # brief, params, dvc.yaml
    metric_deltas: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    edits: list[EditInfo] | None = None  # None: no store was asked


def _git(project: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        raise ConfigError(f"git failed in {project}: {getattr(error, 'stderr', error)}".strip(),
                          "run this inside the project's git repository.") from None


def git_date(since: str) -> str:
    match = re.fullmatch(r"(\d+)\s*([hdwm])", since.strip())
    return f"{match.group(1)} {SHORT[match.group(2)]} ago" if match else since


def since_datetime(since: str, now: dt.datetime | None = None) -> dt.datetime:
    """The UTC moment a window starts: a short form (7d, 2w, 12h, 1m = 30 days) or an ISO date."""
    now = now or dt.datetime.now(dt.UTC)
    match = re.fullmatch(r"(\d+)\s*([hdwm])", since.strip())
    if match:
        hours = int(match.group(1)) * {"h": 1, "d": 24, "w": 24 * 7, "m": 24 * 30}[match.group(2)]
        return now - dt.timedelta(hours=hours)
    try:
        moment = dt.datetime.fromisoformat(since.strip())
    except ValueError:
        raise ConfigError(f"'{since}' is not a time window.", "use 7d, 2w, 12h or a date like 2026-11-01.") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _flatten(metrics: dict) -> dict[str, float]:
    """metrics.json as DVC nests it -> {"group.name": value}."""
    return {f"{group}.{name}": value for group, values in metrics.items() if isinstance(values, dict)
            for name, value in values.items()}


def _metrics_at(project: Path, rev: str) -> dict[str, float]:
    try:
        raw = subprocess.run(["git", "show", f"{rev}:{METRICS}"], cwd=project, capture_output=True, text=True,
                             check=True).stdout
    except subprocess.CalledProcessError:
        return {}
    return _flatten(json.loads(raw))


HISTORY_METRICS = ("retrieval.recall_at_1", "retrieval.recall_at_5", "retrieval.mrr_at_10",
                   "outcome.answerable_answered", "outcome.unanswerable_abstained", "answer.semantic_similarity",
                   "latency.p95_ms")


def metric_history(project: Path, current: dict) -> list[dict]:
    """One row per committed evaluation (commits that changed metrics.json, oldest first), then the
    current metrics as "current". Deterministic for a given commit, so DVC sees no change after one."""
    in_git = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=project, capture_output=True,
                            check=False).returncode == 0  # outside git there is only the current run
    log = _git(project, "log", "--reverse", "--format=%h %ad", "--date=short", "--", METRICS).splitlines() \
        if in_git else []
    rows = [(commit, date, _metrics_at(project, commit)) for commit, date in (line.split() for line in log)]
    now = _flatten(current)
    if rows and {k: rows[-1][2].get(k) for k in HISTORY_METRICS} == {k: now.get(k) for k in HISTORY_METRICS}:
        rows.pop()  # the last commit evaluated exactly what is current
    rows.append(("current", "", now))
    return [{"step": step, "commit": commit, "date": date} | {name: values.get(name) for name in HISTORY_METRICS}
            for step, (commit, date, values) in enumerate(rows, 1)]


def window_start(project: Path, since: str) -> dt.datetime:
    """The moment ``since`` names, for the store's rows: a short form or ISO date, else git's reading of it."""
    try:
        return since_datetime(since)
    except ConfigError:
        age = _git(project, "rev-parse", f"--since={git_date(since)}").strip()  # "--max-age=<unix time>"
        return dt.datetime.fromtimestamp(int(age.rsplit("=", 1)[-1]), dt.UTC)


def changes_since(project: Path, since: str, store: Store | None = None) -> Changes:
    """What changed in git since ``since``, and with a ``store`` the knowledge-base edits saved since then."""
    date = git_date(since)
    head = _git(project, "rev-parse", "--short", "HEAD").strip()
    base = _git(project, "rev-list", "-1", f"--before={date}", "HEAD").strip() or EMPTY_TREE
    result = Changes(since=date, base=base[:12], head=head)
    result.commits = _git(project, "log", f"--since={date}", "--format=%h %ad %s", "--date=short").splitlines()

    def diff(*paths: str) -> list[tuple[str, str]]:
        lines = _git(project, "diff", "--name-status", "--no-renames", base, "HEAD", "--", *paths).splitlines()
        return [(STATUS.get(line[0], line[0]), line.split("\t")[-1]) for line in lines if line]

    result.articles = diff("knowledge")
    result.prompts = diff("prompts")
    result.config = diff("agents", "params.yaml", "dvc.yaml")
    for status, path in result.prompts:
        if path.endswith("CHANGELOG.md"):
            added = _git(project, "diff", base, "HEAD", "--", path).splitlines()
            result.changelog_lines += [line[1:].strip() for line in added
                                       if line.startswith("+") and not line.startswith("+++") and line[1:].strip()]
    before, after = _metrics_at(project, base), _metrics_at(project, "HEAD")
    result.metric_deltas = [(name, before.get(name), after.get(name)) for name in sorted(set(before) | set(after))
                            if before.get(name) != after.get(name)]
    if store is not None:
        result.edits = list(reversed(list_edits(store, since=window_start(project, since))))
    return result


def render_markdown(changes: Changes) -> str:
    lines = [f"# Changes since {changes.since}", "", f"Comparing `{changes.base}` with `{changes.head}`.", ""]

    def section(title: str, rows: list[tuple[str, str]]) -> None:
        lines.extend([f"## {title}", ""] + ([f"- {status}: `{path}`" for status, path in rows] or ["- none"]) + [""])

    section("Articles", changes.articles)
    if changes.edits is not None:
        lines += [f"## Knowledge edits ({len(changes.edits)}, saved in the editor, API or CLI)", ""]
        lines += [f"- #{e.id} {e.created_at:%Y-%m-%d %H:%M} UTC {e.author} "
                  f"{e.kind} `{e.article_id}`: {e.reason}"
                  for e in changes.edits] or ["- none"]
        lines += ["", "See one with `supportgraph kb diff ID`.", ""] if changes.edits else [""]
    section("Prompts", changes.prompts)
    if changes.changelog_lines:
        lines += ["Changelog entries:", ""] + [f"> {line}" for line in changes.changelog_lines] + [""]
    section("Brief, parameters, pipeline", changes.config)
    lines += ["## Metrics (evaluated commits)", ""]
    if changes.metric_deltas:
        lines += ["| metric | before | after | change |", "|---|---|---|---|"]
        for name, old, new in changes.metric_deltas:
            delta = f"{new - old:+.4f}" if isinstance(old, (int, float)) and isinstance(new, (int, float)) else ""
            lines.append(f"| {name} | {old if old is not None else '-'} | {new if new is not None else '-'} | {delta} |")
    else:
        lines.append("- no change in evals/results/metrics.json")
    lines += ["", f"## Commits ({len(changes.commits)})", ""] + [f"- {c}" for c in changes.commits]
    return "\n".join(lines) + "\n"
