"""Sticky assignment, the way GrowthBook does it: hash(salt, unit) into 10,000 buckets; each variant
owns a range starting at its cumulative weight, of which coverage takes the first part.

Raising coverage only extends each variant's range, so a unit already in a variant stays in it;
changing the weights or the salt does reshuffle (stored assignments keep running conversations
where they were).
"""

from __future__ import annotations

import hashlib

BUCKETS = 10_000


def bucket(salt: str, unit_id: str) -> int:
    """0..9999, uniform and stable across processes and Python versions (no ``hash()``)."""
    digest = hashlib.sha256(f"{salt}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def ranges(weights: list[float], coverage: float) -> list[tuple[int, int]]:
    """[start, end) bucket range of each variant."""
    total = sum(weights)
    start, out = 0.0, []
    for weight in weights:
        share = weight / total
        out.append((round(start * BUCKETS), round((start + coverage * share) * BUCKETS)))
        start += share
    return out


def choose(bucket_: int, names: list[str], weights: list[float], coverage: float) -> str | None:
    """The variant owning ``bucket_``, or None when it falls outside the coverage."""
    for name, (start, end) in zip(names, ranges(weights, coverage)):
        if start <= bucket_ < end:
            return name
    return None
