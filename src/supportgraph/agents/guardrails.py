"""Input guard: size, emptiness, prompt injection, and personal-data redaction.

Runs before the graph, so nothing unredacted is checkpointed or stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from supportgraph.privacy import redact

INJECTION_PATTERNS = [
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules?|guidelines|prompts?|policy|policies)\b",
    r"\b(system|developer)\s+(prompt|message|mode)\b",
    r"\byou\s+are\s+now\b",
    r"\bact\s+as\s+(an?\s+)?(admin|administrator|developer|dan|unrestricted)\b",
    r"\b(reveal|show|print|repeat)\b.{0,30}\b(instructions|prompt|internal|staff)\b",
    r"\bjailbreak\b",
]
_INJECTION = [re.compile(p, re.IGNORECASE) for p in INJECTION_PATTERNS]


def looks_like_injection(text: str) -> bool:
    return any(p.search(text) for p in _INJECTION)


@dataclass
class PreparedMessage:
    """A customer message made safe to process and store."""

    text: str
    original_length: int
    flags: list[str] = field(default_factory=list)


def prepare_message(raw: str | None, max_chars: int) -> PreparedMessage:
    raw = raw or ""
    flags: list[str] = []
    if not raw.strip():
        flags.append("empty_message")
    if len(raw) > max_chars:
        flags.append("message_too_long")
    # Only the first max_chars are kept (and so stored): enough to review what was sent.
    text = " ".join(raw[:max_chars].split())
    text, kinds = redact(text)
    if kinds:
        flags.append("pii_redacted")
    if looks_like_injection(text):
        flags.append("prompt_injection")
    return PreparedMessage(text=text, original_length=len(raw), flags=flags)
