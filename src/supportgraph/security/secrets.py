"""Requests for a secret, in any wording: "send us your password", "what's the CVV on the back?",
"I'll need the 6-digit code we just texted you", "reply with your recovery codes".

Support never needs a password, a full card number, a card's security code, a one-time or
2FA code, recovery codes or an API token, so a reply that asks for one is blocked and an
article that does is flagged. Saying such things exist is fine, and so is a product
instruction: "Enter your Kitebase password" and "enter the 6-digit code from your
authenticator app" are steps on Kitebase's own screens, and "we will never ask for your
password" is the opposite of a request.

A sentence asks for a secret when a secret (:data:`SECRETS`) is the object of

- a verb of handing over, in the imperative or asked of the reader ("send", "tell us",
  "DM", "reply with", "could you share", "you need to email");
- a verb of typing ("type", "enter", "paste", "provide") with a destination on our side
  ("here", "in this chat", "in your reply", "to support"), or for a full card number with
  its security code, which only a payment form may take;
- our need ("we need", "I'll require", "support must have", "is required to verify you");
- a question ("what's your password?", "what are the digits on the back of your card?");

and nothing before it in the sentence negates it or makes it a warning ("never", "don't",
"if someone asks you to").
"""

from __future__ import annotations

import re

from supportgraph.security.text import fold

_CARD = r"(?:credit |debit |bank |payment )?card"
SECRETS: dict[str, str] = {
    "password": r"(?:pass ?words?|pass ?phrases?|pass ?codes?|pwd|\bpw\b|login (?:details|credentials)|sign[- ]in details|"
                r"(?:account |login )?credentials|(?:card |atm )?pin(?: code| number)?)",
    "card_number": rf"(?:(?:full|complete|entire|whole|long|16[- ]digit|sixteen[- ]digit) (?:{_CARD} )?(?:number|digits)|"
                   rf"{_CARD}(?:'s)? (?:number|details|digits|info(?:rmation)?|numbers)|(?:numbers?|digits) "
                   rf"(?:printed |shown |embossed )?on (?:the )?(?:front of )?(?:your |the )?{_CARD}|all (?:16|sixteen) digits|"
                   rf"\bpan\b)",
    "security_code": rf"(?:cvv2?|cvc2?|\bcid\b|security code|card verification (?:value|code)|(?:3|three|4|four)[- ]digit "
                     rf"(?:security )?code|(?:digits|numbers|code) on the back(?: of (?:your |the )?{_CARD})?|"
                     rf"expir(?:y|ation) date)",
    "one_time_code": r"(?:(?:2fa|two[- ]factor|mfa|multi[- ]factor|verification|one[- ]time|otp|sms|text|login|sign[- ]in|"
                     r"authenticat(?:or|ion)|auth|security|confirmation|access|(?:6|six)[- ]digit)(?: app)? "
                     r"(?:code|passcode|token|number|pin)s?|\botp\b|code (?:we|i) (?:just )?(?:sent|texted|emailed)|"
                     r"code (?:you|that) (?:just )?(?:got|received|get)|code (?:from|in|on) (?:your |the )?"
                     r"(?:authenticator|phone|sms|text|app|email)|code (?:that )?(?:just )?(?:arrived|came)|code (?:that )?(?:your|the) "
                     r"(?:authenticator|app|phone|device|token)(?: app)? (?:is )?(?:showing|shows|displays|generated|gives))",
    "recovery_code": r"(?:(?:recovery|backup|reset|rescue|emergency) (?:codes?|keys?|phrases?|words)|seed phrase|"
                     r"secret (?:recovery )?phrase)",
    "api_token": r"(?:api (?:tokens?|keys?|secrets?)|access tokens?|personal (?:access |api )?tokens?|bearer tokens?|"
                 r"secret keys?|client secrets?|private keys?|(?:your|the) token)",
}
_SECRET = "(?:" + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in SECRETS.items()) + ")"
# Words that can stand between a verb and the secret: "send me over both of your", "tell us the".
_FILLER = r"(?:(?:me|us|over|across|along|back|it|them|here|please|quickly|now|both|all|of|each|every|one|a|an|the|this|that|"\
    r"these|those|your|ur|yr|their|his|her|current|new|old|actual|real|exact|copy|full|complete|entire|whole|valid|"\
    r"latest|most recent|6[- ]digit|six[- ]digit|code|codes|and|,|kitebase|account|login|sign-in|card|card's|2fa|" \
    r"assistant|agent|bot|chatbot|support|team|staff|someone|everyone|" \
    r"two-factor|mfa|3|three|4|four|6|six|16|sixteen)\s+){0,7}?"
_HANDOVER = r"(?:send|sent|give|tell|share|e-?mail|dm|pm|message|text|whatsapp|reply with|respond with|answer with|" \
    r"post|forward|read(?: out)?|say|spell(?: out)?|disclose|reveal|hand(?: over)?|supply|let (?:me|us) (?:know|have|see)|" \
    r"show (?:me|us)|drop|report|pass(?: on| along)?|write (?:back|down for (?:me|us)))"
_TYPING = r"(?:type|enter|input|paste|provide|submit|write|put|include|upload|attach|confirm|add|key in|fill in)"
# Where a typed secret goes: our side of the conversation.
_OUR_SIDE = r"(?:here\b|below\b|in (?:this|the|our) (?:chat|conversation|window|message|thread|reply|box)|in (?:your|a|the) " \
    r"(?:reply|response|next message|answer|message)|to (?:me|us|support|our (?:team|agents?)|an? agent|the agent|the " \
    r"support team)|(?:at|to) [\w.+-]+@[\w-]+\.\w+|for (?:me|us) to (?:check|verify|confirm)|so (?:we|i) can)"
# Where a typed secret belongs: the product's own screens.
_PRODUCT_SIDE = r"(?:in settings|on the (?:[\w-]+ ){0,2}(?:page|screen|form|field|dialog|tab)|in the (?:[\w-]+ ){0,2}" \
    r"(?:app|form|field|box|dialog|browser|authenticator)|into (?:kitebase|the (?:app|field|form))|when (?:prompted|asked " \
    r"by the app)|on app\.|in kitebase|at checkout|on your (?:phone|device))"
# Where a handed-over secret goes when it is not to a person: an API request, a script, a vault.
_MACHINE_SIDE = r"(?:in (?:the|an?|each|every) [^.!?]{0,40}?\b(?:header|request|call|script|environment|variable|" \
    r"config file)|to the api|in your (?:code|script|environment|password manager|secrets? (?:store|manager|vault)))"
# What may follow a secret without it being handed over: "give the token a name".
_NOT_HANDED = re.compile(r"^\s*(?:a|an|the)? ?(?:name|label|description|title|scope|scopes|permissions?|access|expiry|"
                         r"lifetime)\b")
_START = r"(?:^|[.!?;:\n(]\s*|,\s*|\b(?:and|then|now|just|simply|please|kindly|pls|plz|also|first|next|quickly|so)\s+)"
_ASK_YOU = r"(?:(?:can|could|would|will|won'?t) (?:you|u)(?: please| kindly| just| quickly)?|(?:you|u) (?:need|have|must|should|" \
    r"will need|ll need|ought) to|(?:i|we)(?:'d| would) (?:like|need) (?:you )?to|(?:we|i) (?:want|ask|need) (?:you )?to|" \
    r"(?:i|we) must ask (?:you )?to|make sure (?:you|to)|be sure to|don'?t forget to|remember to|go ahead and|feel free to|" \
    r"(?:it'?s|it is) (?:required|necessary|mandatory) (?:that you|to)|the (?:next|last|final) step is to)"
_NEED = r"(?:(?:we|i|support|our team|the (?:support |billing )?team|an? agent|the agent|kitebase|the assistant)" \
    r"(?:'ll| will| would| do| does| must| shall)?(?: just| also| still| first| now)? (?:needs?|requires?|must have|" \
    r"ha(?:ve|s) to (?:have|see|get)|wants?|asks? for|requests?|needs? to (?:see|have|get|know|check|verify))|" \
    r"(?:need|require) (?:a copy of )?)"
_QUESTION = r"(?:what(?:'s| is| are| was| were)|which is|(?:can|could) (?:i|we) (?:have|get|see)|may (?:i|we) (?:have|get|see|ask for))"
_REQUIRED = r"(?:is|are) (?:required|needed|necessary|mandatory)(?: (?:here|now|to (?:continue|proceed|verify|confirm)|" \
    r"for (?:verification|this))|\s*$)"
_NEGATION = re.compile(r"\b(?:never|not|no|n't|dont|cannot|nobody|no one|avoid|refuse|without|instead of|rather than|"
                       r"if (?:someone|anyone|somebody|a person|they|an? (?:email|message|caller|website|site))|"
                       r"anyone (?:who|asking)|someone (?:who|asking)|scam|phishing|fake|pretend)\b|n't\b")
_EXCEPT = re.compile(r"\blast (?:4|four) digits\b|\bfirst (?:4|four|6|six) digits\b")

_PATTERNS = [
    ("handover", re.compile(rf"{_START}(?:{_ASK_YOU}\s+)?{_HANDOVER}\s+{_FILLER}{_SECRET}(?P<after>[^.!?\n]*)")),
    ("typing", re.compile(rf"{_START}(?:{_ASK_YOU}\s+)?{_TYPING}\s+{_FILLER}{_SECRET}(?P<after>[^.!?\n]*)")),
    ("need", re.compile(rf"{_NEED}\s+{_FILLER}{_SECRET}")),
    ("question", re.compile(rf"{_QUESTION}\s+(?:your|ur|the|yr)\s+{_FILLER}{_SECRET}")),
    ("required", re.compile(rf"{_SECRET}[\w' ]{{0,20}}?\s{_REQUIRED}")),
    # "what password do you use?", and the bare "and the security code on the back, please"
    ("which", re.compile(rf"\bwhat (?:is |are )?{_SECRET}\s+(?:do|did|are|were) (?:you|u) (?:use|using|have|get|got|see|receive)")),
    ("bare", re.compile(rf"^\W*(?:and|also|plus|now)\W+(?:the|your|ur)\s+{_FILLER}{_SECRET}(?:\s+(?:on|from|of|in)\b"
                        rf"[^.!?]{{0,30}}?)?\W*(?:please|pls|too|as well|also)?\W*$")),
    ("bare", re.compile(rf"^\W*(?:the|your|ur)\s+{_FILLER}{_SECRET}(?:\s+(?:on|from|of|in)\b[^.!?]{{0,30}}?)?\W*"
                        rf"(?:please|pls)\W*$")),
]
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def secret_requests(text: str) -> list[str]:
    """The kinds of secret the text asks the reader to hand over (empty when it asks for none)."""
    kinds: list[str] = []
    plain = re.sub(r"[*_`#>]+", " ", text or "")  # markdown emphasis is not a word: "**Summary:** Send us ..."
    for sentence in _SENTENCE.split(fold(plain)):
        for kind in _sentence_requests(sentence):
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def asks_for_secret(text: str) -> bool:
    return bool(secret_requests(text))


def _sentence_requests(sentence: str) -> list[str]:
    found: list[str] = []
    for form, pattern in _PATTERNS:
        for m in pattern.finditer(sentence):
            kind = next(k for k in SECRETS if m.group(k))
            if _EXCEPT.search(sentence[max(0, m.start(kind) - 20):m.end(kind)]):
                continue
            if _NEGATION.search(sentence[:m.start(kind)]):
                continue
            if form == "typing" and not _typed_to_us(kind, sentence, m):
                continue
            if form == "handover" and (_NOT_HANDED.match(m.group("after")) or re.search(_MACHINE_SIDE, m.group("after"))):
                continue
            found.append(kind)
    return found


def _typed_to_us(kind: str, sentence: str, m: re.Match) -> bool:
    """"Type/enter/provide X" is a request to us only when it says so, or for a whole card at once."""
    after = m.group("after")
    if any(re.search(where, text) for where in (_PRODUCT_SIDE, _MACHINE_SIDE) for text in (after, sentence[:m.start()])):
        return False
    if re.search(_OUR_SIDE, after):
        return True
    whole_card = kind in ("card_number", "security_code") and re.search(SECRETS["card_number"], sentence) \
        and re.search(SECRETS["security_code"], sentence)
    return bool(whole_card)
