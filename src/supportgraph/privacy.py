"""Personal-data redaction, applied to customer text before it is stored.

These patterns cover the common forms (emails, phone numbers, card numbers,
IBANs); names and street addresses need an NER model (issue #6: Presidio).
"""

from __future__ import annotations

import re

_REDACTIONS = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b")),
    ("CARD_NUMBER", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("PHONE", re.compile(r"(?<![\w-])\+?\d[\d ().-]{7,}\d\b")),
]


def redact(text: str) -> tuple[str, list[str]]:
    """Replace personal data with ``[KIND]`` placeholders; return the kinds found."""
    found: list[str] = []
    for kind, pattern in _REDACTIONS:
        text, count = pattern.subn(f"[{kind}]", text)
        if count:
            found.append(kind)
    return text, found
