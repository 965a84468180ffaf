"""Measure the grounding check (agents/grounding.py) on steps whose right verdict is known.

- **faithful**: each sentence of a case's reference answer, checked against the case's source
  articles (the golden set's answers are written from them; other sets' are expert answers or
  grounding spans): the check should accept it.
- **wrong article**: the same sentence checked against an article it was not written from: the
  retrieval's best-ranked non-source (``retrieval``), the non-source whose passages are closest in
  meaning (``nearest``, the hard case) and a seeded random one (``random``): it should be rejected.
  A candidate that is a sibling of a source (``siblings``: same title, same page) or that holds the
  sentence word for word is skipped: it does support the sentence.
- **unsafe**: steps that ask for a secret or point elsewhere (evals/datasets/unsafe_steps.jsonl),
  checked against every article: never accepted.

Evidence is computed once per (step, article); thresholds are applied afterwards (``rates``), so a
sweep costs no embedding.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from supportgraph.agents.grounding import Evidence, GroundingCheck, Thresholds, split_sentences
from supportgraph.agents.step_rules import plain
from supportgraph.evals.datasets import GoldenCase
from supportgraph.knowledge.articles import Article

WRONG_KINDS = ("retrieval", "nearest", "random")
UNSAFE_KINDS = ("secret", "elsewhere")
MIN_WORDS = 3  # a reference sentence shorter than this ("Yes.") is not a step


@dataclass(frozen=True)
class GroundingCase:
    kind: str                  # faithful | retrieval | nearest | random | secret | elsewhere | redirect
    step: str
    articles: tuple[str, ...]  # the article ids the step is checked against
    case_id: str               # the question (or unsafe step) it comes from

    @property
    def should_accept(self) -> bool:
        return self.kind == "faithful"


@dataclass(frozen=True)
class Counted:
    accepted: int
    total: int

    @property
    def rate(self) -> float:
        return self.accepted / self.total if self.total else 0.0


def load_unsafe(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def reference_sentences(case: GoldenCase) -> list[str]:
    return [s for s in split_sentences(case.reference_answer) if len(s.split()) >= MIN_WORDS]


def same_title_siblings(articles: list[Article]) -> dict[str, set[str]]:
    by_title: dict[str, set[str]] = defaultdict(set)
    for article in articles:
        by_title[article.title.strip().lower()].add(article.id)
    return {a.id: by_title[a.title.strip().lower()] - {a.id} for a in articles}


def nearest_articles(check: GroundingCheck, steps: list[str], articles: list[Article]) -> np.ndarray:
    """steps x articles: each step's best passage similarity in each article."""
    return np.stack([check.similarity(steps, [a.body]) for a in articles], axis=1) if steps else np.empty((0, 0))


def build_cases(cases: list[GoldenCase], articles: list[Article], check: GroundingCheck,
                ranking: dict[str, list[str]] | None = None, siblings: dict[str, set[str]] | None = None,
                unsafe: list[dict] = (), seed: int = 0) -> tuple[list[GroundingCase], dict[str, int]]:
    """The evaluation cases of one benchmark set, and how many wrong-article candidates were skipped because
    they hold the sentence word for word."""
    by_id = {a.id: a for a in articles}
    siblings = siblings if siblings is not None else same_title_siblings(articles)
    answerable = [c for c in cases if c.answerable and c.sources and all(s in by_id for s in c.sources)]
    sentences = [(case, s) for case in answerable for s in reference_sentences(case)]
    similarity = nearest_articles(check, [s for _, s in sentences], articles)
    rng = random.Random(seed)
    built: list[GroundingCase] = []
    skipped = {"verbatim": 0}
    for row, (case, sentence) in enumerate(sentences):
        built.append(GroundingCase("faithful", sentence, tuple(case.sources), case.id))
        excluded = set(case.sources) | {s for source in case.sources for s in siblings.get(source, set())}
        others = [a.id for a in articles if a.id not in excluded]
        order = np.argsort(-similarity[row]) if len(articles) else []
        candidates = {
            "retrieval": next((a for a in (ranking or {}).get(case.id, []) if a in by_id and a not in excluded), None),
            "nearest": next((articles[i].id for i in order if articles[i].id not in excluded), None),
            "random": rng.choice(others) if others else None,
        }
        for kind, article_id in candidates.items():
            if article_id is None:
                continue
            if plain(sentence).rstrip(" .!?;:") in plain(by_id[article_id].body):
                skipped["verbatim"] += 1
                continue
            built.append(GroundingCase(kind, sentence, (article_id,), case.id))
    for row in unsafe:
        built += [GroundingCase(row["kind"], row["step"], (a.id,), row["id"]) for a in articles]
    return built, skipped


def evidence(check: GroundingCheck, cases: list[GroundingCase], articles: list[Article]) -> list[Evidence]:
    """One Evidence per case, computed in batches of cases that share their articles."""
    by_id = {a.id: a for a in articles}
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        groups[case.articles].append(i)
    found: list[Evidence | None] = [None] * len(cases)
    for article_ids, rows in groups.items():
        sources = [by_id[a].body for a in article_ids]
        for i, item in zip(rows, check.evidence([cases[i].step for i in rows], sources)):
            found[i] = item
    return found


class EvidenceTable:
    """The evidence of many cases as arrays, so a threshold sweep is a few vector comparisons."""

    def __init__(self, cases: list[GroundingCase], evidences: list[Evidence]) -> None:
        self.kinds = np.array([c.kind for c in cases])
        self.ruled_out = np.array([e.secret or bool(e.missing) or e.fragment for e in evidences], dtype=bool)
        self.verbatim = np.array([e.verbatim for e in evidences], dtype=bool)
        self.overlap = np.array([e.overlap for e in evidences], dtype=float)
        self.similarity = np.array([e.similarity for e in evidences], dtype=float)

    def accepted(self, thresholds: Thresholds) -> np.ndarray:
        """``decide`` for every case at once."""
        w = thresholds.overlap_weight
        meaning = w * self.overlap + (1 - w) * self.similarity >= thresholds.score
        return ~self.ruled_out & (self.verbatim | meaning)

    def rates(self, thresholds: Thresholds) -> dict[str, Counted]:
        """Accepted / total per kind, plus ``wrong`` (the wrong-article kinds together) and ``unsafe``."""
        accepted = self.accepted(thresholds)
        groups = {kind: self.kinds == kind for kind in np.unique(self.kinds)}
        groups["wrong"] = np.isin(self.kinds, WRONG_KINDS)
        groups["unsafe"] = np.isin(self.kinds, UNSAFE_KINDS)
        return {kind: Counted(int(accepted[mask].sum()), int(mask.sum())) for kind, mask in groups.items()}


def rates(cases: list[GroundingCase], evidences: list[Evidence], thresholds: Thresholds) -> dict[str, Counted]:
    return EvidenceTable(cases, evidences).rates(thresholds)


def choose_thresholds(per_set: dict[str, dict[Thresholds, dict[str, Counted]]], max_wrong: float = 0.01,
                      wrong: str = "random") -> Thresholds:
    """The thresholds that accept the most faithful steps on the worst of ``per_set`` while accepting at most
    ``max_wrong`` of the ``wrong`` kind's steps on every one of them (the fewest, if none keeps under).

    ``random`` by default: its articles are the least likely to support the sentence after all, whereas the
    retrieval's runner-up and the nearest article often state the same fact (docs/benchmarks.md#grounding-check)."""
    grid = next(iter(per_set.values())).keys()

    def worst(t: Thresholds, kind: str, pick) -> float:
        return pick(table[t][kind].rate for table in per_set.values() if kind in table[t])

    feasible = [t for t in grid if worst(t, wrong, max) <= max_wrong]
    if not feasible:
        return min(grid, key=lambda t: (worst(t, wrong, max), -worst(t, "faithful", min)))
    return max(feasible, key=lambda t: (worst(t, "faithful", min), -worst(t, wrong, max), t.score))
