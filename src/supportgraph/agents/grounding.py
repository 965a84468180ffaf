"""Is a step supported by the article it cites? One decision, with its evidence.

A step is accepted when, in this order:

1. it asks for no secret (``step_rules.asks_for_secret``): never accepted otherwise, whatever
   the article says;
2. every number, amount, URL, host, e-mail address, phone number and menu path in it is in the
   article (``step_rules.SourceFacts``); a missing URL, host, address or phone number means the
   step points elsewhere;
3. it says something: at least two content words, unless it is a whole sentence or list item of the
   article ("Sign out."); a lone word, number or heading copied from the article ("steps", "2") is not
   a step;
4. it is the article's own text (the twin's steps), or it says what the article says: a weighted sum
   of ``overlap`` (the share of its content words, stemmed, that the article uses) and
   ``similarity`` (the best cosine between its sentence embedding and one of the article's
   sentences or pairs of adjacent sentences, from the embedder the agent already loads) reaches
   the threshold.

Two knobs (the weight and the threshold), chosen by leave-one-dataset-out across the benchmark
sets (bench/grounding.py, docs/benchmarks.md#grounding-check). Article passages are embedded once
and kept.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
import Stemmer

from supportgraph.agents.step_rules import SourceFacts, asks_for_secret, plain, points_elsewhere
from supportgraph.knowledge.embedding import Embedder


@dataclass(frozen=True)
class Thresholds:
    """Chosen by bench/grounding.py (leave-one-dataset-out, docs/benchmarks.md#grounding-check)."""

    overlap_weight: float = 0.3  # the score is this much word overlap and the rest meaning
    score: float = 0.72          # accepted at or above

    def accepts(self, overlap: float, similarity: float) -> bool:
        return self.overlap_weight * overlap + (1 - self.overlap_weight) * similarity >= self.score

    def least_overlap(self) -> float:
        """The overlap below which no similarity (at most 1) reaches the score."""
        return (self.score - (1 - self.overlap_weight)) / self.overlap_weight if self.overlap_weight else 0.0


@dataclass(frozen=True)
class Evidence:
    """What the check found for one step against its sources (everything the decision reads)."""

    secret: bool              # asks for a password, card number, code, token or key
    missing: tuple[str, ...]  # facts the sources do not state, "kind:value"
    verbatim: bool            # the step is the sources' own text
    fragment: bool            # fewer than two content words, and not a whole sentence of the sources
    overlap: float
    similarity: float


@dataclass(frozen=True)
class Verdict:
    step: str
    accepted: bool
    reason: str               # grounded | verbatim | secret | elsewhere | fact | fragment | unsupported | empty
    evidence: Evidence


def decide(evidence: Evidence, thresholds: Thresholds) -> tuple[bool, str]:
    if evidence.secret:
        return False, "secret"
    if evidence.missing:
        return False, "elsewhere" if points_elsewhere(list(evidence.missing)) else "fact"
    if evidence.fragment:
        return False, "fragment"
    if evidence.verbatim:
        return True, "verbatim"
    if thresholds.accepts(evidence.overlap, evidence.similarity):
        return True, "grounded"
    return False, "empty" if evidence.overlap == 0 and evidence.similarity == 0 else "unsupported"


def passes_text_rules(step: str, sources: list[str], thresholds: Thresholds | None = None) -> bool:
    """What the check requires that needs no model: no secret, no missing fact, and the sources' own text or
    enough of their content words for the score to be reachable. A necessary condition of ``GroundingCheck``'s
    acceptance (with the same thresholds), so re-checking an accepted step with it never drops the step."""
    source = "\n\n".join(sources)
    facts = SourceFacts(source)
    step_stems = content_stems(step)
    if not step_stems or asks_for_secret(step) or facts.missing(step) or _fragment(step_stems, step, source):
        return False
    overlap = len(step_stems & content_stems(source)) / len(step_stems)
    return _verbatim(step, facts) or overlap >= (thresholds or Thresholds()).least_overlap()


def _verbatim(step: str, facts: SourceFacts) -> bool:
    return plain(step).rstrip(" .!?;:") in facts.text


def _fragment(step_stems: set[str], step: str, source: str) -> bool:
    if sum(bool(re.search("[a-z]", stem)) for stem in step_stems) >= 2:  # numbers alone say nothing
        return False
    return plain(step).rstrip(" .!?;:") not in _whole_units(source)


@functools.lru_cache(maxsize=256)  # every short step of an answer asks about the same sources
def _whole_units(source: str) -> frozenset[str]:
    body = re.sub(r"(?m)^\s*#.*$", "", source)  # a heading is a title, not a step
    return frozenset(plain(s).rstrip(" .!?;:") for s in split_sentences(body))


# --- text -------------------------------------------------------------------------------------------

_STEMMER = Stemmer.Stemmer("english")
STOPWORDS = frozenset("""
a about above after again against all am an and any are aren arent as at be because been before being below
between both but by can cant cannot could couldnt did didnt do does doesnt doing dont down during each few for
from further had hadnt has hasnt have havent having he her here hers herself him himself his how i id ill im
ive if in into is isnt it its itself lets me more most my myself no nor not of off on once only or other ought
our ours ourselves out over own same she should shouldnt so some such than that thats the their theirs them
themselves then there theres these they theyre this those through to too under until up very was wasnt we
were werent what when where which while who whom why will with wont would wouldnt you youd youll youre youve
your yours yourself yourselves also just may might must shall us via e g ie eg etc yes ok please s t ll re ve
d m get gets got one
""".split())
# An initialism ("U.S.", "N.Y.", "e.g.", "p.m.") is far likelier mid-sentence than at a sentence's end.
_ABBREVIATIONS = re.compile(r"(?:\b(?:[a-z](?:\.[a-z])+|etc|vs|approx|incl|dr|mr|mrs|ms|st|jr|sr|"
                            r"fig|ca|cf|min|max|dept|est|inc|ltd|co)\.)$", re.IGNORECASE)
_NUMBER_SIGN = re.compile(r"\bnos?\.$", re.IGNORECASE)  # "No. 5", but "Can I? No. You..." ends a sentence
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_BLOCK_MARK = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)")


def content_stems(text: str) -> set[str]:
    words = [w for w in re.findall(r"[a-z0-9]+", plain(text).replace("'", "")) if w not in STOPWORDS]
    return set(_STEMMER.stemWords(words))


def split_sentences(text: str) -> list[str]:
    """Sentences of markdown or plain text: headings, list items and table rows are units of their own."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or _BLOCK_MARK.match(line) or stripped.startswith("|"):
            if current:
                blocks.append(" ".join(current))
            current = [_BLOCK_MARK.sub("", line).strip()] if stripped else []
            if stripped.startswith(("#", "|")):
                blocks.append(current.pop())
        else:
            current.append(stripped)
    if current:
        blocks.append(" ".join(current))
    found: list[str] = []
    for block in blocks:
        pieces = _SENTENCE_END.split(re.sub(r"[*_`]+", "", block).strip())
        found += [s.strip() for s in join_abbreviations(pieces) if re.search(r"[^\W_]", s)]
    return found


def join_abbreviations(pieces: list[str]) -> list[str]:
    """Sentence pieces, put back together where a cut fell after an abbreviation ("the U.S. Postal Service")."""
    merged: list[str] = []
    for piece in pieces:
        if merged and (_ABBREVIATIONS.search(merged[-1]) or _NUMBER_SIGN.search(merged[-1]) and piece[:1].isdigit()):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def passages(source: str) -> list[str]:
    """What a step is compared with: each sentence of the source and each pair of adjacent sentences."""
    sentences = split_sentences(source)
    return sentences + [f"{a} {b}" for a, b in zip(sentences, sentences[1:])]


# --- the check --------------------------------------------------------------------------------------

class GroundingCheck:
    """Decides, per step, whether the cited sources support it; built once per agent with its embedder."""

    def __init__(self, embedder: Embedder, thresholds: Thresholds | None = None, cache_size: int = 20_000) -> None:
        self.embedder = embedder
        self.thresholds = thresholds or Thresholds()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def verdicts(self, steps: list[str], sources: list[str]) -> list[Verdict]:
        verdicts = []
        for step, evidence in zip(steps, self.evidence(steps, sources)):
            accepted, reason = decide(evidence, self.thresholds)
            verdicts.append(Verdict(step, accepted, reason, evidence))
        return verdicts

    def keep(self, steps: list[str], sources: list[str]) -> list[str]:
        """The steps the sources support, in order."""
        return [v.step for v in self.verdicts(steps, sources) if v.accepted]

    def evidence(self, steps: list[str], sources: list[str]) -> list[Evidence]:
        source = "\n\n".join(sources)
        facts = SourceFacts(source)
        stems = content_stems(source)
        found = []
        needs_meaning = []
        for step in steps:
            step_stems = content_stems(step)
            overlap = len(step_stems & stems) / len(step_stems) if step_stems else 0.0
            verbatim = bool(step_stems) and _verbatim(step, facts)
            fragment = bool(step_stems) and _fragment(step_stems, step, source)
            evidence = Evidence(secret=asks_for_secret(step), missing=tuple(facts.missing(step)), verbatim=verbatim,
                                fragment=fragment, overlap=round(overlap, 4), similarity=0.0)
            found.append(evidence)
            if step_stems and not (evidence.secret or evidence.missing or fragment or verbatim):
                needs_meaning.append(len(found) - 1)
        if needs_meaning:  # only steps the text rules leave open cost an embedding
            similarity = self.similarity([steps[i] for i in needs_meaning], sources)
            for i, value in zip(needs_meaning, similarity):
                found[i] = replace(found[i], similarity=round(float(value), 4))
        return found

    def similarity(self, steps: list[str], sources: list[str]) -> np.ndarray:
        """Per step, the best cosine with any passage of the sources (0 when they have none)."""
        windows = [p for source in sources for p in passages(source)]
        if not windows:
            return np.zeros(len(steps))
        return (self._embed_cached(steps) @ self._embed_cached(windows).T).max(axis=1)

    def _embed_cached(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            vectors = self.embedder.embed(missing)
            with self._lock:
                self._vectors.update(zip(missing, vectors))
                while len(self._vectors) > self._cache_size:
                    self._vectors.popitem(last=False)
        with self._lock:
            known = {t: self._vectors.get(t) for t in texts}
        absent = [t for t, v in known.items() if v is None]  # evicted meanwhile by another thread
        if absent:
            known.update(zip(absent, self.embedder.embed(absent)))
        return np.stack([known[t] for t in texts])
