"""Customer messages as search queries: what to leave out, and what to keep from what is left out.

A message to support is often an e-mail: a greeting, the question, a pasted log or stack trace,
a signature. The greeting and signature only add noise; the log adds noise too, but its error
codes (``E_TIMEOUT``, ``SQL1032N``, ``0x80070005``, ``HTTP 500``) are what an article about that
error is found by. So the prose becomes the query, and the codes join the lexical query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GREETING_LINE = re.compile(r"^\W*(hi|hello|hey|hiya|dear|good (morning|afternoon|evening)|greetings|to whom it may concern)"
                            r"\b[^.?!]{0,40}[,!.:]?\s*$", re.IGNORECASE)
_SIGN_OFF = re.compile(r"^\W*(thanks?|thank you|many thanks|thx|cheers|regards|best|best regards|kind regards|"
                       r"warm regards|sincerely|br|kr|all the best|respectfully|sent from my \w+)\b[\s\w,.!-]{0,30}$",
                       re.IGNORECASE)
_LOG_LINE = re.compile(
    r"^\s*(at\s+[\w$.<>]+\(|\d{4}-\d\d-\d\d[ T]\d\d:\d\d|\[\d{2}:\d{2}|(error|warn|warning|info|debug|fatal|trace)\b[:\]\s]|"
    r"traceback \(most recent|file \"[^\"]+\", line \d+|[>$#]\s|caused by:|exception in thread|\w+(\.\w+){2,}"
    r"(exception|error)\b|\{\s*\"|[\w.]+:\d+:\d+)", re.IGNORECASE)
# Error codes and exception names: E_TIMEOUT, SQL1032N, 0x80070005, NullPointerException, status=500.
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]{2,}\b|\b[A-Z]{2,}\d{2,}[A-Z]?\b|\b0x[0-9a-fA-F]{4,}\b|"
                   r"\b[A-Z]\w+(?:Exception|Error)\b|(?<=status[=: ])[1-5]\d\d\b|(?<=HTTP )[1-5]\d\d\b")
_LOG_INTRO = re.compile(r"^[\w ]{0,30}(output|log|logs|error|trace|stack ?trace|message|details)\s*:$", re.IGNORECASE)


# A question opens with a question word or an auxiliary verb ("can i undo it"), or has a question mark.
_QUESTION_OPENER = re.compile(r"^\W*(how|what|whats|when|where|why|who|which|can|could|do|does|did|is|are|was|"
                              r"were|will|would|should|may|might|shall|am|have|has)\b", re.IGNORECASE)
# Where a told problem's circumstances begin: "I was charged twice | this month for my subscription": a time,
# a cause or a concession. Not "for", "with" or "from", which more often complete the problem ("a problem with
# the repairs", "looking for help with a renewal").
_CIRCUMSTANCE = re.compile(r"\s+\b(?:this|last|since|after|before|when|because|while|during|every|each|"
                           r"today|yesterday|even though|although)\b", re.IGNORECASE)
_MIN_CLAUSE_WORDS = 3
_SENTENCE_END = re.compile(r"(?<=[.!;])\s+|\n")


def problem_clause(text: str) -> str | None:
    """A told problem without its circumstances ("I was charged twice", of "I was charged twice this month
    for my subscription"), or None for a question, or when nothing would be left out. The circumstances'
    words ("subscription") can match an article about something else better than the problem does."""
    if "?" in text or _QUESTION_OPENER.match(text):
        return None
    first = _SENTENCE_END.split(text, maxsplit=1)[0]  # the problem is told first; later sentences add context
    for found in _CIRCUMSTANCE.finditer(first):
        if len(first[:found.start()].split()) >= _MIN_CLAUSE_WORDS:
            return first[:found.start()]
    return None


@dataclass(frozen=True)
class Query:
    text: str          # the prose: what both retrievers read
    codes: tuple[str, ...] = ()  # error codes from pasted logs: added to the lexical query only

    @property
    def lexical(self) -> str:
        return " ".join((self.text, *self.codes)).strip()


def _symbolic(line: str) -> bool:
    """Mostly punctuation, digits and identifiers: a pasted log or code, not a sentence."""
    letters = sum(ch.isalpha() for ch in line)
    return len(line) > 12 and letters / len(line) < 0.55


def clean_query(message: str) -> Query:
    """The message without its greeting, signature and pasted logs (whose error codes are kept)."""
    lines = [line.rstrip() for line in message.replace("\r\n", "\n").split("\n")]
    kept, codes = [], []
    signed_off = False
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if signed_off:
            continue  # the signature block: names, titles, phone numbers
        if _SIGN_OFF.match(stripped) and number >= len(lines) // 2 and len(stripped.split()) <= 6:
            signed_off = True
            continue
        if not kept and _GREETING_LINE.match(stripped):
            continue
        if _LOG_LINE.match(stripped) or _symbolic(stripped) or _LOG_INTRO.match(stripped):
            codes += [code for code in _CODE.findall(stripped) if code not in codes]
            continue
        kept.append(stripped)
    text = " ".join(kept) if kept else " ".join(message.split())
    return Query(text, tuple(codes[:8]))
