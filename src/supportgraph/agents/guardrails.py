"""Input guard: any input made safe to process and store, before the graph sees it.

In order: the text is repaired (security/text.py: invalid Unicode, NUL and control characters,
ANSI escapes, zero-width characters), personal data is redacted (privacy.py) in a window just
past the length limit and only then cut, so nothing of a card number or an e-mail address
that straddles the cut is kept; then prompt injection is detected (security/injection.py).

An attack with no question beside it is refused. An attack beside a real question ("Ignore your
rules. How do I export my data?") is not: the graph reads only the question
(``PreparedMessage.agent_text``), so the attack is neither answered nor echoed, and the stored
message keeps all of it for review. Markup is read as it renders (security/markup.readable): the
graph reads the words of "![x](...) <img ...> how do I export my data?", not its tags, and whether
the message is suspicious is judged on what is left once the markup has been looked at whole.
Nothing here raises on bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from supportgraph import privacy
from supportgraph.knowledge.safety import passage_problems
from supportgraph.privacy import redact
from supportgraph.security.injection import SUSPICIOUS, Verdict, detect
from supportgraph.security.markup import readable
from supportgraph.security.text import clean_text, has_words


def looks_like_injection(text: str) -> bool:
    """Whether an article passage must not be copied into an answer (knowledge/safety.py: instructions to the
    assistant, secret requests, HTML). Kept under this name for the twins; links are judged by the output guard."""
    return bool(passage_problems(text, links=False))


@dataclass
class PreparedMessage:
    """A customer message made safe to process and store."""

    text: str                 # stored: repaired, redacted, cut
    original_length: int
    flags: list[str] = field(default_factory=list)
    agent_text: str = ""      # what the graph reads: ``text`` as it reads rendered, or only the question beside an attack

    def __post_init__(self) -> None:
        self.agent_text = self.agent_text or self.text


def prepare_message(raw: str | bytes | None, max_chars: int, previous: str = "") -> PreparedMessage:
    """Repair, redact, cut and screen one message. ``previous`` is the thread's last message, so an attack
    split across two turns is read whole."""
    text, flags, original_length = _repaired_and_redacted(raw, max_chars)
    verdict = detect(text)
    if not verdict.attack and previous:
        verdict = _across_turns(previous, text, verdict)
    agent_text = ""
    if verdict.attack:
        flags += [f"injection:{rule}" for rule in verdict.rules[:3]] or ["injection:classifier"]
        if verdict.question:
            flags.append("prompt_injection_removed")
            agent_text = " ".join(verdict.question.split())
        else:
            flags.append("prompt_injection")
    else:
        words = readable(text)
        if words != " ".join(text.split()) and has_words(words):
            flags.append("markup_removed")
            agent_text = words
            verdict = detect(words)  # the markup was seen whole above; what is left is what gets echoed
        if verdict.suspicious:
            flags.append("suspicious_message")
    return PreparedMessage(text=" ".join(text.split()), original_length=original_length, flags=flags,
                           agent_text=agent_text)


def redact_message(raw: str | bytes | None, max_chars: int) -> tuple[str, list[str]]:
    """The message as it may be stored before its turn runs (a queued background run): repaired, redacted
    and cut, with the flags that says so. Screening waits for the turn, which knows the thread's last message."""
    text, flags, _ = _repaired_and_redacted(raw, max_chars)
    return text, flags


def _repaired_and_redacted(raw: str | bytes | None, max_chars: int) -> tuple[str, list[str], int]:
    cleaned = clean_text(raw)
    flags = list(cleaned.problems)
    text = cleaned.text
    if not has_words(text):
        flags.append("empty_message")
    if len(text) > max_chars:
        flags.append("message_too_long")
    text, kinds = redact_then_cut(text, max_chars)
    if kinds:
        flags.append("pii_redacted")
    return text, flags, len(cleaned.text)


def redact_then_cut(text: str, max_chars: int) -> tuple[str, list[str]]:
    """Redact the first ``max_chars`` characters and a margin past them, then cut: personal data across the cut
    is redacted whole (the margin is longer than any one piece), and a placeholder is never cut in half."""
    window = text[:max_chars + privacy.OVERLAP]
    redacted, kinds = redact(window)
    if len(redacted) <= max_chars:
        return redacted, kinds
    cut = redacted[:max_chars]
    partial = re.search(r"\[[A-Z_]*$", cut)  # "[CARD_NU": drop the half placeholder rather than keep it
    return (cut[:partial.start()] if partial else cut), kinds


def _across_turns(previous: str, text: str, alone: Verdict) -> Verdict:
    """An attack split over two messages: read them together when either looks suspicious on its own."""
    before = detect(previous)
    if before.attack or not (alone.score >= SUSPICIOUS or before.score >= SUSPICIOUS):
        return alone
    joint = detect(f"{previous}\n{text}")
    return Verdict(True, joint.score, joint.rules, joint.attack_sentences) if joint.attack else alone
