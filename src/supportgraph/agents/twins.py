"""Deterministic, grounded twins of the LLM steps.

They answer with no model: an extractive one-sentence summary, numbered steps
copied from the cited article, template questions. Every step they produce is
text from a retrieved article.
"""

from __future__ import annotations

import re

from supportgraph.agents.guardrails import looks_like_injection
from supportgraph.knowledge.articles import Article, numbered_items

GREETING = re.compile(r"^(hi|hello|hey|good (morning|afternoon|evening)|dear [\w ]+|thanks?( you)?|cheers)\b[\s,!.]*",
                      re.IGNORECASE)
SIGNAL_WORDS = re.compile(
    r"\b(can'?t|cannot|won'?t|not|no|never|error|fail\w*|broken|charged|refund\w*|lost|locked|delete\w*|"
    r"cancel\w*|how|why|where|what|when|help|issue|problem|stuck|missing|crash\w*|sync\w*|down|slow)\b",
    re.IGNORECASE)
_PERSON = [  # first person -> second person, longest first
    (r"\bI am\b", "you are"), (r"\bI'm\b", "you're"), (r"\bI was\b", "you were"), (r"\bI've\b", "you've"),
    (r"\bI'd\b", "you'd"), (r"\bI'll\b", "you'll"), (r"\bI\b", "you"), (r"\bmy\b", "your"), (r"\bme\b", "you"),
    (r"\bmine\b", "yours"), (r"\bmyself\b", "yourself"), (r"\bwe\b", "you"), (r"\bour\b", "your"), (r"\bus\b", "you"),
]
MAX_SUMMARY_WORDS = 30


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]


def summarize_issue(message: str) -> str:
    """One sentence, in the second person, saying what the customer needs."""
    candidates = [GREETING.sub("", s).strip() for s in sentences(message)] or [message.strip()]
    candidates = [c for c in candidates if c] or [message.strip()]
    best = max(candidates, key=lambda s: len(SIGNAL_WORDS.findall(s)))
    words = best.split()
    if len(words) > MAX_SUMMARY_WORDS:
        best = " ".join(words[:MAX_SUMMARY_WORDS]) + "..."
    how = re.match(r"^(how|where)\s+(do|can|should)\s+(i|we)\s+(.+?)[?.!]*$", best, re.IGNORECASE)
    if how:
        return f"You'd like to know {how.group(1).lower()} to {_second_person(how.group(4))}."
    if re.search(r"\b(you|your|yours)\b", best, re.IGNORECASE):
        # It already addresses us; swapping persons would garble it, so quote it.
        return f"You wrote: \u201c{best.rstrip()}\u201d"
    text = _second_person(best).rstrip(" .!?")
    if best.rstrip().endswith("?"):
        return f"You asked: {text[0].lower() + text[1:]}?"
    return text[0].upper() + text[1:] + "."


def _second_person(text: str) -> str:
    for pattern, replacement in _PERSON:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return text


def steps_from_article(article: Article, slots: dict[str, str], labels: dict[str, str]) -> list[str]:
    """Numbered steps from the article section that fits the customer's details.

    ``labels`` maps a slot
    value to the word used in section headings (``ios`` -> ``iOS``).
    """
    sections = article.sections()
    step_sections = [s for s in sections if s.heading.lower().startswith("steps")]
    chosen = None
    for value in slots.values():
        chosen = next((s for s in step_sections if f"({value})" in s.heading.lower().replace(" ", "")
                       or f"({labels.get(value, value).lower()})" in s.heading.lower()), None)
        if chosen:
            break
    chosen = chosen or next((s for s in step_sections if s.heading.lower() == "steps"), None)
    chosen = chosen or next((s for s in step_sections), None)
    chosen = chosen or next((s for s in sections if numbered_items(s.text)), None)
    if chosen:
        items = [i for i in numbered_items(chosen.text) if not looks_like_injection(i)]
        if items:
            return items
    # No numbered list: the article's key sentences become the steps.
    body = " ".join(s.text for s in sections if not s.heading.lower().startswith("if that"))
    plain = [s for s in sentences(re.sub(r"[#*_`>-]+", " ", body)) if not looks_like_injection(s)]
    return plain[:4]


def intro_sentence(article: Article) -> str:
    first = article.sections()[0] if article.sections() else None
    if first is None or first.heading != article.title:
        return ""
    found = sentences(first.text.replace("\n", " "))
    return found[0] if found and not looks_like_injection(found[0]) else ""


def is_grounded(step: str, sources: list[str]) -> bool:
    """A step is grounded when most of its words appear in one cited source text."""
    words = set(re.findall(r"[a-z0-9]+", step.lower()))
    if not words:
        return False
    return any(len(words & set(re.findall(r"[a-z0-9]+", src.lower()))) / len(words) >= 0.8 for src in sources)
