"""Make any input valid, printable text, and fold it for detectors.

``clean_text`` never raises: it accepts ``str``, ``bytes`` or ``None`` and returns valid
Unicode with the problems it repaired named, so a caller can store the repaired text and
reply clearly. What it repairs:

- bytes that are not UTF-8 (a shell in a Latin-1 locale passes ``caf\\xe9``; Python hands
  that to ``sys.argv`` as the lone surrogate ``\\udce9``): decoded as Windows-1252, so the
  customer's ``café`` survives; other lone surrogates become U+FFFD;
- NUL and the other C0/C1 control characters (tab and newline are kept), and ANSI/VT
  escape sequences as a whole, so ``\\x1b[31m`` leaves no ``[31m`` behind;
- zero-width and bidirectional-override characters (U+200B..U+200F, U+202A..U+202E,
  U+2060..U+2069, U+FEFF), which hide text from a reader or reverse what they see; the
  zero-width joiner is kept between two emoji, where it builds one emoji;
- NFC normalisation, so one word has one spelling in the store.

``fold`` is for detectors only (never shown or stored): NFKC (full-width and styled letters
become plain ones), lower case, common look-alike letters mapped to Latin, accents removed,
digits used as letters read as letters, and runs of separators between single letters
joined ("i g n o r e" and "i.g.n.o.r.e" become "ignore").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u180e\u00ad]")
_ZWJ = "\u200d"
_ESCAPED_BYTES = re.compile(r"[\udc80-\udcff]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class CleanText:
    text: str
    problems: list[str] = field(default_factory=list)  # invalid_unicode, control_characters, invisible_characters


def clean_text(raw: str | bytes | None) -> CleanText:
    """Valid, printable Unicode from anything a customer, a shell or a browser can send."""
    problems: list[str] = []
    if raw is None:
        return CleanText("")
    if isinstance(raw, (bytes, bytearray)):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            text = bytes(raw).decode("utf-8", errors="surrogateescape")
    elif isinstance(raw, str):
        text = raw
    else:
        text = str(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _SURROGATE.search(text):
        problems.append("invalid_unicode")
        text = _repair_surrogates(text)
    without_escapes = _ANSI.sub("", text)
    without_controls = _CONTROL.sub("", without_escapes)
    if without_controls != text:
        problems.append("control_characters")
    text = without_controls
    visible = _INVISIBLE.sub("", _drop_stray_joiners(text))
    if visible != text:
        problems.append("invisible_characters")
    return CleanText(unicodedata.normalize("NFC", visible), problems)


def printable(text: str | None) -> str:
    """``clean_text`` for display: the repaired text alone."""
    return clean_text(text).text


_PAIR = re.compile(r"[\ud800-\udbff][\udc00-\udfff]")


def _repair_surrogates(text: str) -> str:
    # a surrogate pair split into two code points (from UTF-16 sources) joins back into one character
    text = _PAIR.sub(lambda m: m.group(0).encode("utf-16-le", "surrogatepass").decode("utf-16-le"), text)

    def from_bytes(match: re.Match) -> str:
        data = match.group(0).encode("utf-8", "surrogateescape")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")

    return _SURROGATE.sub("\ufffd", _ESCAPED_BYTES.sub(from_bytes, text))


def _is_emoji(char: str) -> bool:
    return unicodedata.category(char) == "So" or 0x1F000 <= ord(char) <= 0x1FAFF


def _drop_stray_joiners(text: str) -> str:
    if _ZWJ not in text:
        return text
    out = []
    for i, char in enumerate(text):
        if char == _ZWJ:
            before = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if not (before and after and _is_emoji(before) and (_is_emoji(after) or after == "\ufe0f")):
                continue
        out.append(char)
    return "".join(out)


def has_words(text: str) -> bool:
    """Whether the text holds anything a person could read (a letter, a digit or an emoji)."""
    return any(c.isalnum() or _is_emoji(c) for c in text)


# Look-alike letters from Cyrillic and Greek that spell Latin words ("іgnоre" with Cyrillic і and о).
_LOOKALIKES = {
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ո": "n", "ս": "u",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
}
_CONFUSABLES = str.maketrans(_LOOKALIKES)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_WORD = re.compile(r"\b(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[0-9@$])[a-z0-9@$]{3,}\b")
# Single letters separated by dots, dashes or stars ("s.y.s.t.e.m"), then by single spaces ("i g n o r e";
# two or more spaces still separate words).
_DOTTED = re.compile(r"\b[a-z](?:[.\-_*][a-z]){2,}\b")
_SPACED = re.compile(r"\b[a-z](?: [a-z]){2,}\b")


_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[a-z]")
_LOOKALIKE = re.compile("[" + "".join(_LOOKALIKES) + "]")


def _unmix(match: re.Match) -> str:
    """A word that mixes Latin letters with Cyrillic or Greek look-alikes is a disguised Latin word."""
    word = match.group(0)
    return word.translate(_CONFUSABLES) if _LATIN.search(word) and _LOOKALIKE.search(word) else word


def fold(text: str) -> str:
    """A detector's view of ``text``: one spelling for look-alike, styled, spaced or leet letters.

    Words wholly in another script (Russian, Greek) are kept as they are."""
    text = _WORD.sub(_unmix, unicodedata.normalize("NFKC", clean_text(text).text).lower())
    # accents off Latin letters only: Hangul syllables and Japanese kana decompose too, and must not lose their marks
    text = "".join(c if ord(c) >= 0x250 else "".join(d for d in unicodedata.normalize("NFKD", c)
                                                      if not unicodedata.combining(d)) for c in text)
    text = re.sub(r"(?<=[a-z])_+(?=[a-z])", " ", text)  # IGNORE_ALL_PREVIOUS_INSTRUCTIONS
    text = _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), text)
    text = _DOTTED.sub(lambda m: re.sub(r"[.\-_*]", "", m.group(0)), text)
    text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    return " ".join(text.split())
