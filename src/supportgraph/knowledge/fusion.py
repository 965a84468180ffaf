"""Fusing the retrievers' article scores into one ranking.

Each channel (dense chunks, dense titles, BM25 chunks) scores the articles it fetched. Raw scores
live on different scales that also shift from one help centre to the next (a cosine of 0.5 is
strong on one, weak on another; BM25 grows with query length), so each channel is normalised per
query before the weighted sum:

- ``zscore`` (default): how many standard deviations above the channel's mean for this query an
  article is. Chosen by leave-one-dataset-out over four benchmark sets (docs/benchmarks.md): it
  keeps a strong outlier strong and a flat list flat, where min-max turns the best of a weak list
  into a full score.
- ``minmax``: the previous default, kept for comparison.
- ``rrf``: reciprocal rank fusion, for comparison.

An article a channel did not fetch counts as that channel's lowest normalised score.
"""

from __future__ import annotations

import math

Scores = dict[str, float]  # article id -> raw score in one channel


def _zscore(scores: Scores) -> Scores:
    values = list(scores.values())
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return {key: (value - mean) / std if std > 1e-9 else 0.0 for key, value in scores.items()}


def _minmax(scores: Scores) -> Scores:
    low, high = min(scores.values()), max(scores.values())
    return {key: (value - low) / (high - low) if high > low else 1.0 for key, value in scores.items()}


def _rrf(scores: Scores, k: float) -> Scores:
    ranked = sorted(scores, key=scores.get, reverse=True)
    return {key: 1.0 / (k + rank) for rank, key in enumerate(ranked, 1)}


def normalise(scores: Scores, method: str, rrf_k: float = 60.0) -> Scores:
    if not scores:
        return {}
    if method == "zscore":
        return _zscore(scores)
    if method == "rrf":
        return _rrf(scores, rrf_k)
    return _minmax(scores)


def fuse(channels: dict[str, Scores], weights: dict[str, float], method: str, rrf_k: float = 60.0) -> Scores:
    """Weighted sum of each channel's normalised scores over every article any channel fetched."""
    normalised = {name: normalise(scores, method, rrf_k) for name, scores in channels.items() if scores}
    articles = {key for scores in normalised.values() for key in scores}
    floor = {name: (min(scores.values()) if method == "zscore" else 0.0) for name, scores in normalised.items()}
    return {key: sum(weights.get(name, 0.0) * scores.get(key, floor[name]) for name, scores in normalised.items())
            for key in articles}
