"""Rules a step must meet whatever its wording: the facts it states exactly, and what it must never ask.

- ``missing_facts(step, source)``: every number, amount, URL, host, e-mail address and menu
  path ("Settings > Billing > Invoices") in the step must be in the source text. A fact that is
  not there is either invented (a wrong figure, a menu that does not exist) or points the
  customer elsewhere (a host, address or phone number the article never gives).
- ``asks_for_secret(step)``: the step asks the customer to hand over a password, card number,
  CVV, a 2FA / verification / recovery code, a token or a key (to us, in the chat, by e-mail),
  or says that we ask for one. "Enter your password and click Delete account" (the product's
  own form) and "Support will never ask for your password" are not asks.

Pure text rules: no model, no article structure, the same for every knowledge base.
"""

from __future__ import annotations

import re

_MARKUP = re.compile(r"[*_`]+")
_ARROW = re.compile(r"\s*(?:>|→|›|»|->|&gt;)\s*")

# --- facts -----------------------------------------------------------------------------------------

URL = re.compile(r"\bhttps?://[^\s<>()\"']+", re.IGNORECASE)
EMAIL = re.compile(r"\b[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)
HOST = re.compile(r"(?<![\w@./-])(?:www\.)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})(?![\w-])", re.IGNORECASE)
# Dotted names that are file names or code, not places to go.
_NOT_HOSTS = {"json", "yaml", "yml", "py", "md", "txt", "csv", "pdf", "png", "jpg", "jpeg", "gif", "js", "ts",
              "html", "htm", "xml", "zip", "exe", "dmg", "msi", "apk", "ipa", "log", "sh", "toml", "ini", "cfg",
              "docx", "xlsx", "pptx", "mp4", "mov", "svg", "tsv", "jsonl", "ipynb", "tar", "gz", "env", "lock"}
PHONE = re.compile(r"(?<![\w.-])\+?\(?\d{1,4}\)?(?:[ .-]\(?\d{2,6}\)?){1,4}(?![\w-])")
HANDLE = re.compile(r"(?<![\w.@])@[a-z_]\w{2,}", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,:]\d+)*(?=s?(?!\w))|\b[a-z]*\d[\w-]*\b", re.IGNORECASE)
AMOUNT = re.compile(r"([$€£])\s?(\d+(?:[.,]\d+)*)|(\d+(?:[.,]\d+)*)\s?(usd|eur|gbp|dollars?|euros?|pounds?)\b",
                    re.IGNORECASE)
_CURRENCY = {"usd": "$", "dollar": "$", "dollars": "$", "eur": "€", "euro": "€", "euros": "€", "gbp": "£",
             "pound": "£", "pounds": "£"}
_WORD_NUMBERS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
                                                     "seventy": "70", "eighty": "80", "ninety": "90",
                                                     "hundred": "100", "thousand": "1000", "dozen": "12"}


def plain(text: str) -> str:
    """Lower case, no markdown emphasis, menu arrows as " > ", single spaces."""
    return " ".join(_ARROW.sub(" > ", _MARKUP.sub("", text)).lower().split())


def _number(token: str) -> str:
    token = token.lower()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
        token = token.replace(",", "")
    if re.fullmatch(r"\d+\.\d+", token):
        token = token.rstrip("0").rstrip(".")
    return token


def _numbers(text: str) -> set[str]:
    """Standalone numbers, and codes that carry at least three digits (DE123456789, 20240229)."""
    found = set()
    text = re.sub(r"(?:^|(?<=[\s(]))\d{1,2}\)(?=\s)", " ", text)  # "1) develop, 2) read": a list, not figures
    for token in NUMBER.findall(text):
        if token[0].isdigit() and re.fullmatch(r"\d+(?:[.,:]\d+)*", token):
            found.add(_number(token))
        elif sum(c.isdigit() for c in token) >= 3:
            found.add(token.lower())
    return found


def _phones(text: str) -> set[str]:
    """Phone-like numbers (7 to 15 digits with separators), as their digits; ISO dates are not phones."""
    found = set()
    for match in PHONE.findall(text):
        match = match.strip()
        digits = re.sub(r"\D", "", match)
        date_or_ip = re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{1,3}(?:\.\d{1,3}){3}", match.strip())
        if 7 <= len(digits) <= 15 and not date_or_ip:
            found.add(digits)
    return found


def _amounts(text: str) -> set[tuple[str, str]]:
    found = set()
    for symbol, value, value2, word in AMOUNT.findall(text):
        found.add((symbol or _CURRENCY[word.lower()], _number(value or value2)))
    return found


def _hosts(text: str) -> set[str]:
    hosts = {h.lower() for h in HOST.findall(EMAIL.sub(" ", text))}
    return {h for h in hosts if h.rsplit(".", 1)[-1] not in _NOT_HOSTS}


MENU_NAME_WORDS = 4


def _menu_parts(text: str) -> set[str]:
    """The names a menu path is made of: whole between two arrows, the adjacent word at either end
    ("in Settings > Billing > Report a billing problem and" -> settings, billing, report a billing problem, ...)."""
    parts = set()
    untagged = re.sub(r"<[^<>\s]+>", " ", text)  # <thinking> and <answer> are tags, not a menu
    for path in re.findall(r"[\w'.-]+(?: > [^>]+?)+(?= > |$|[,;:!?()]|\.(?:\s|$))", plain(untagged)):
        names = [n.strip(" .") for n in path.split(" > ")]
        parts |= {names[0].split()[-1], names[-1].split()[0]}
        for name in names[1:-1]:  # a long "name" is the end of one path and the start of the next
            parts |= {name} if len(name.split()) <= MENU_NAME_WORDS else {name.split()[0], name.split()[-1]}
    return {p for p in parts if p}
class SourceFacts:
    """What a source text states exactly, read once and asked for each step."""

    def __init__(self, source: str) -> None:
        self.text = plain(source)
        words = re.findall(r"[a-z]+", self.text)
        self.numbers = _numbers(self.text) | {_WORD_NUMBERS[w] for w in words if w in _WORD_NUMBERS}
        self.amounts = _amounts(self.text)
        self.phones = _phones(self.text)
        self.words = set(re.findall(r"[\w'-]+", self.text))

    def missing(self, step: str) -> list[str]:
        """The step's facts the source does not state, each as ``kind:value`` (empty: all there)."""
        missing = []
        for url in URL.findall(step):
            bare = re.sub(r"^https?://(www\.)?", "", url.lower()).rstrip("/.,;:!?)")
            if bare not in self.text:
                missing.append(f"url:{url}")
        for address in EMAIL.findall(step):
            if address.lower() not in self.text:
                missing.append(f"email:{address}")
        missing += [f"handle:{h}" for h in HANDLE.findall(EMAIL.sub(" ", step)) if h.lower() not in self.text]
        missing += [f"host:{h}" for h in _hosts(URL.sub(" ", step))
                    if not re.search(rf"(?<![\w-]){re.escape(h)}(?![\w-])", self.text)]  # t.me is not in input.messages
        rest = EMAIL.sub(" ", URL.sub(" ", step))
        phones = _phones(rest)
        missing += [f"phone:{p}" for p in sorted(phones)
                    if not any(p.endswith(known) or known.endswith(p) for known in self.phones)]
        if phones:
            rest = PHONE.sub(" ", rest)
        missing += [f"number:{n}" for n in sorted(_numbers(rest) - self.numbers)]
        missing += [f"amount:{s}{v}" for s, v in sorted(_amounts(step) - self.amounts)]
        missing += [f"menu:{m}" for m in sorted(_menu_parts(step)) if m not in self.words and m not in self.text]
        return missing


def missing_facts(step: str, source: str) -> list[str]:
    return SourceFacts(source).missing(step)


def points_elsewhere(missing: list[str]) -> bool:
    """A missing fact that sends the customer somewhere: a URL, host, e-mail address, phone number or handle."""
    return any(m.startswith(("url:", "email:", "host:", "phone:", "handle:")) for m in missing)


# --- secrets -----------------------------------------------------------------------------------------

SECRET = (r"(?:(?:current |old |new |account |login |sign-in |workspace )?pass(?:word|code|phrase)s?\b|pins?\b|"
          r"(?:login|sign-in|account) (?:details|credentials)|credentials|"
          r"(?:(?:full|whole|complete|long|16-digit|credit|debit) )*card(?:'s)? (?:number|details|info\w*)s?|"
          r"(?:16-digit |long |full )?numbers? on (?:the )?(?:front of )?(?:your |the )(?:credit |debit )?card|"
          r"cvv2?|cvc|csc|(?:card )?security code|"
          r"(?:(?:2fa|two-factor|2-step|two-step|mfa|one-time|verification|authentication|authenticator|"
          r"security|login|sign-in|sms|6-digit|six-digit|backup|recovery|reset)[ -])+(?:codes?|pins?|keys?)\b|"
          r"(?:the|your|that|this) (?:\w+-digit )?codes?\b(?! (?:snippet|example|sample|block|base|editor))|"
          r"one-time passwords?|otps?\b|your tokens?\b(?! (?:usage|count|limit|budget))|"
          r"(?:(?:api|access|personal access|auth|authentication|bearer|refresh|session|secret|security) )+"
          r"(?:tokens?|keys?)\b|secret keys?|private keys?|client secrets?|signing secrets?)")


def _forms(*verbs: str) -> str:
    """A verb with its -s, -ing and -ed forms ("send" -> send, sends, sending, sent/sended)."""
    out = []
    for verb in verbs:
        first, _, rest = verb.partition(" ")
        stem = first[:-1] if first.endswith("e") else first
        forms = {first, f"{first}s", f"{stem}ing", f"{stem}ed", f"{first}d"}
        out.append(f"(?:{'|'.join(sorted(forms, key=len, reverse=True))})" + (f" {rest}" if rest else ""))
    return "|".join(out)


_GIVE = (_forms("send", "share", "give", "tell", "provide", "forward", "reveal", "disclose", "read out", "read us",
                "spell out", "reply with", "respond with", "post", "submit", "hand over", "pass on")
         + r"|sent|told|gave|given|let (?:us|me) (?:know|have)")
# Verbs that ask for a secret only when it goes to us: "enter your password" is the product's own form,
# "email us your password" is not; "sign in with your email and password" is no verb at all.
_ENTER = _forms("enter", "type", "paste", "include", "write", "put", "add", "fill in", "input", "confirm", "verify",
                "attach", "upload", "copy", "email", "e-mail", "text", "message", "dm")
_DESTINATION = (r"^[\w-]+\s+(?:us|me|them|support|the agent|our team)\b|(?:in|into|to|through|via|over|within|by) (?:the |this |our |your |a )?(?:chat|conversation|reply|"
                r"message|e-?mail|ticket|thread|dm|support request|form below|phone)|\bhere\b|\bbelow\b|"
                r"(?:to|with|for) (?:us|me|support|the (?:support |billing |security )?(?:agent|team|assistant)|"
                r"our (?:\w+ )?(?:team|agents?|staff)|an agent)\b")
_ASKER = r"(?:we|we'll|we'd|i|i'll|i'd|us|support|agents?|team|assistant|kitebase|staff|department|desk)"
_ASK = _forms("ask", "request", "need", "require", "collect", "want", "check", "verify", "confirm") + r"|will have to"
_ASK_OBJECT = r"(?:\W+(?:you|for|to|from|me|us))*"
# Whoever sends in "we send you a code" or "the app shows the code" is not the customer being asked.
_NOT_THE_CUSTOMER = re.compile(r"\b(?:we|we'll|kitebase|it|it'll|they|app|system|support|team|server|api|"
                               r"you'll receive)\b(?:\W+(?:will|can|may|would|then|also|automatically|immediately|"
                               r"'ll|never|not))*\W*$", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:never|not|no|nobody|no one|don't|doesn't|didn't|won't|can't|cannot|shouldn't|"
                       r"mustn't|neither|nor|without|avoid|refuse)\b|n't\b", re.IGNORECASE)
_SPAN = re.compile(r"[^,;:.!?()—–]+")
_WORDS = r"(?:[^\w;:.!?]+\w+){0,12}?[^\w;:.!?]+"  # up to 12 words, within one clause

# Each pattern matches at the verb and looks ahead for the secret, so every verb is tried ("never share it,
# but do tell me the code": the negated "share" does not hide "tell").
_GIVE_SECRET = re.compile(rf"\b(?P<verb>{_GIVE})\b(?={_WORDS}{SECRET})", re.IGNORECASE)
_GIVE_IT = re.compile(rf"\b{SECRET}.*?\b(?P<verb>{_GIVE})\s+(?:it|them|those|these|that|this|both)\b", re.IGNORECASE)
_ENTER_SECRET = re.compile(rf"\b(?P<verb>{_ENTER})\b(?={_WORDS}{SECRET})", re.IGNORECASE)
_ASK_SECRET = re.compile(rf"\b{_ASKER}\b(?:\W+\w+){{0,4}}?\W+(?P<verb>{_ASK})\b(?={_ASK_OBJECT}{_WORDS}{SECRET})",
                         re.IGNORECASE)
_WHAT_SECRET = re.compile(rf"\bwhat(?:'s| is| are| was)\s+(?:your|the)\s+(?:\w+\s+){{0,3}}?{SECRET}", re.IGNORECASE)
_DEST = re.compile(_DESTINATION, re.IGNORECASE)
# What support may ask for and looks like a secret: "the last four digits of your card (number)".
_NOT_SECRET = re.compile(r"\blast (?:four|4) digits of (?:the |your )?(?:card|credit card|debit card)(?:'s)?(?: numbers?)?",
                         re.IGNORECASE)


def _span_before(text: str, at: int) -> str:
    """The words between the last punctuation mark before ``at`` and ``at``."""
    spans = list(_SPAN.finditer(text[:at]))
    return spans[-1].group(0) if spans and spans[-1].end() == at else ""


def asks_for_secret(step: str) -> bool:
    text = " ".join(_MARKUP.sub("", step).replace("\u2019", "'").split())
    text = _NOT_SECRET.sub("card ending", text)
    if _WHAT_SECRET.search(text):
        return True
    rules = ((_GIVE_SECRET, False, True), (_GIVE_IT, True, True), (_ASK_SECRET, False, False),
             (_ENTER_SECRET, True, True))
    for pattern, needs_destination, customer_acts in rules:
        for match in pattern.finditer(text):
            before = _span_before(text, match.start("verb"))
            if _NEGATION.search(before + " " + match.group("verb")):
                continue
            if customer_acts and _NOT_THE_CUSTOMER.search(before):
                continue
            if needs_destination and not _DEST.search(text[match.start("verb"):]):
                continue
            return True
    return False
