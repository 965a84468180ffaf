"""What a customer's message does: report an issue, confirm a fix, say it still fails, ask
something new, ask for a person, make small talk, or talk about something else.

A message is split into clauses (sentences, and the parts around "but", "also", "another
thing", ...). Each clause gets one act:

- rules first, for what they decide reliably: requests for a person, bare greetings and
  thanks, and the outcome words of a follow-up read with their negations ("no problems now"
  is good news, "not working anymore" is not), which sentence embeddings cannot tell apart
  ("it works now" and "it still doesn't work" are 0.69 apart in cosine);
- otherwise the nearest labelled example phrasings (intent_examples.py), by similarity in the
  embedding model the agent already loads.

The acts, with what the agent last asked, combine into one `Reading`: the intent and the
question(s) to answer. tests/data/followups.jsonl measures it (bench/intents.py prints it).
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from supportgraph.agents.grounding import content_stems
from supportgraph.agents.intent_examples import EXAMPLES, OTHER_PRODUCTS
from supportgraph.knowledge.embedding import Embedder

Intent = Literal["new_issue", "clarify_answer", "retry", "resolved", "resolved_and_new", "human",
                 "small_talk", "off_topic"]

# --- splitting --------------------------------------------------------------------------------
# Sentence ends, line breaks, "x: y", and emoji (customers use them as full stops: "works 👍 btw ...").
_EMOJI = "\u2600-\u27bf\U0001f300-\U0001faff"
_SENTENCES = re.compile(rf"(?<=[.!?])\s+|\s*\n+\s*|(?<=[a-z])\s*[:;]\s+(?=\w)|(?<=[{_EMOJI}])\s*(?=\w)", re.IGNORECASE)
_GOOD_EMOJI = re.compile("[\U0001f44d\U0001f44c\U0001f64c\U0001f389\u2705\U0001f60a\U0001f642\U0001f600\U0001f601"
                         "\U0001f603\U0001f604\U0001f970\u2764\U0001f4aa\U0001f973\U0001f64f]")
_BAD_EMOJI = re.compile("[\U0001f44e\U0001f621\U0001f624\U0001f61e\u274c\U0001f620\U0001f622\U0001f62d\U0001f629"
                        "\U0001f92c\U0001f615\U0001f641\u2639]")
_CONTRAST = re.compile(r"\s*,?\s+\b(?:but|though|although|however)\b[\s,]+", re.IGNORECASE)
# "yes resolved, and can you tell me ...": a question after a comma starts a clause of its own.
COMMA_QUESTION = re.compile(r",\s*(?:and\s+)?(?=(?:how|what|where|when|why|which|who)\b|(?:can|could|is|are|do|does|"
                             r"will|would|should)\s+(?:i|we|you|it|my|our|the|there|a|an|to|one|this|that|they)\b)",
                             re.IGNORECASE)
# A bare request for help ("Can you help me?", "I need help", "help me please"): beside a request, not a question
# of its own (the summary and the questions to answer skip it); alone, a problem not yet told.
ONLY_HELP = re.compile(r"^(?:(?:can|could|would|will)\s+(?:you|someone|anyone)\s+(?:please\s+)?help|(?:i|we)\s+"
                       r"(?:really\s+)?(?:need|want|would like)\s+(?:some\s+)?help|(?:please\s+)?help)(?:\s+(?:me|us))?"
                       r"(?:\s+with\s+(?:this|that|it))?(?:\s+please)?\W*$", re.IGNORECASE)
# Words that open a second topic ("Thanks. Another thing: how do I export?").
_NEW_TOPIC = re.compile(r"^(?:(?:and|oh|ok|okay|so)\s+)?(?:also|another (?:thing|question)|one more (?:thing|question)|"
                        r"btw|by the way|besides|separately|second(?:ly)?|plus|p\.?s\.?|unrelated(?: question| q)?|"
                        r"random (?:q|question|thing)|(?:quick|other) (?:q|question)|"
                        r"different (?:question|topic|thing)|new question|next question|separate (?:q|question|thing|issue)|(?:but )?actually)\b[\s,:.-]*",
                        re.IGNORECASE)
# ... or say so anywhere ("I have another problem", "there's a different issue now").
_ANOTHER_ONE = re.compile(r"\b(?:another|a different|a new|a separate|one more)\s+(?:problem|issue|question|thing)\b",
                          re.IGNORECASE)
# A greeting before the request ("hi, how do I cancel?") is a clause of its own.
_LEADING_GREETING = re.compile(r"^\W*((?:hi+|hello+|hey+|hiya|good (?:morning|afternoon|evening))(?: there| all| team)?)\b[\s,!.]+"
                               r"(?=\w)", re.IGNORECASE)
_OPENER = re.compile(r"^(?:and|so|oh|well|um+|uh+)\b[\s,]*", re.IGNORECASE)
_QUESTION_START = re.compile(r"^(?:(?:how|what|where|why|when|which|who|whom|whose|whats|hows|wheres|whos)\b|(?:can|could|may|is|are|am|do|does|"
                             r"did|will|would|should|shall|have|has)\s+(?:i|we|you|it|my|our|the|there|a|an|this|that|"
                             r"they|he|she|someone|anyone|anybody|somebody|me|us)\b|any\s+(?:way|idea|chance|news|"
                             r"update|other)\b"
                             # a request asks too ("show me my invoices", "please explain the refund policy"; not "give me 5 min")
                             r"|(?:please\s+)?(?:show|tell|walk|help)\s+(?:me|us)\b|(?:please\s+)?explain\b)",
                             re.IGNORECASE)

# --- rules ------------------------------------------------------------------------------------
_HUMAN = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(talk|speak|chat|connect|put|transfer|pass|escalate)\b.{0,25}\b(human|person|people|someone|somebody|agent|"
    r"representative|rep|staff|operator|manager|supervisor|team member|customer (service|support))\b(?!-)",
    r"\b(want|need|get|give|request|like)\b.{0,15}\b(a |an |the |to a |to an )?(human|real person|live (person|agent|chat)|"
    r"(support |real |live )?(agent|person|human)|representative|operator|supervisor|manager)\b"
    r"(?! (app|role|permission|seat|from my|on my|in my))(?!-)",
    r"^\W*(a |an )?(human|agent|representative|operator|real person|live agent|person)( please| pls| now)?\W*$",
    r"\b(anyone|someone|somebody) real\b|\b(book|schedule|arrange|set up) (me )?a (call|meeting|phone call)\b",
    r"\b(call|ring|phone) me\b",
    r"\bis there (a|any) (human|person|real person|agent)\b(?!-)",
    r"\b(real|actual|live) (human|person|people|agent)\b(?!-)",
    r"\b(someone|somebody|a person|a human|anyone|one of (you|your (team|staff|colleagues)))\b.{0,40}\b(reach out|contact|"
    r"call|email|e-mail|phone|ring|message|get back to|get in touch|walk me|review|look into)\b",
    r"\b(hand|pass|put|transfer|forward) me( over)? (to|through)\b|\bescalate (this|it|me)\b",
    r"\b(tier (2|two|3|three)|second line|2nd line) support\b",
    r"\b(prefer|rather)\b.{0,30}\b(person|human|someone|somebody|agent|people)\b(?!-)",
    r"\b(talk|speak)\b.{0,6}\b(to|with)\b.{0,6}\b(sales|billing|them|you guys) (team )?(directly|about|now|please)\b",
)]
_GREETING = re.compile(r"^\W*(hi+|hello+|hey+|hiya|yo|howdy|hallo|greetings|good (morning|afternoon|evening|day)|"
                       r"morning|evening)( there| all| team| guys| folks| everyone| support)?\W*$|"
                       r"^\W*(is )?(any ?(one|body)|someone|somebody) (there|here|around|available|online)\W*$|"
                       r"^\W*(are )?(you|u) (still )?(there|here|around|real|a (bot|robot|human|person))\W*$|"
                       r"^\W*(how(?: are| r|'re)? (?:you|ya|u)|how'?s (your|the) day|how is (your|the) day|how'?s it going|what'?s up|sup)"
                       r"( doing| going)?( today| so far)?\W*$",
                       re.IGNORECASE)
_THANKS = re.compile(r"^\W*(ok(ay)?,? )?(thanks?|thank you|thx|tx|ty|cheers|ta|much appreciated|appreciate (it|that)|"
                     r"many thanks)( (so|very) much| a lot| a bunch| again| for (your|the) help| for that| anyway|"
                     r" for (being|the|your|all|explaining|checking|looking)\b[^?]*)?"
                     r"( yesterday| today| earlier)?([,. !]+(bye|goodbye|cheers|you('re| are| lot are| guys are) \w+( \w+)?))?"
                     r"\W*$", re.IGNORECASE)
# Goodbyes and compliments ask for nothing, and confirm nothing either.
_PLEASANTRY = re.compile(r"^\W*(ok(ay)?,? )?(bye|goodbye|see (you|ya)|take care|(you )?(have a|enjoy your) (nice|good|great|lovely)"
                         r" (day|one|evening|weekend)( too)?|(and )?(you )?too)\W*$"
                         r"|^\W*(lol |haha )?(you('re| are| lot are| guys are| folks are) (great|awesome|the best|amazing|"
                         r"brilliant|so helpful|helpful|stars|legends)|i love (the name|the app|kitebase|you guys|this))"
                         r"\b[^?]*$", re.IGNORECASE)
# The outcome of a fix, as a customer reports it. A negator within three words before an
# outcome word flips it ("no problems" is good, "not working" bad, "not not working" good).
_POSITIVE = {"work", "works", "worked", "working", "fixed", "fixes", "solved", "resolved", "sorted", "helped",
             "helps", "perfect", "great", "awesome", "brilliant", "excellent", "fine", "good", "success",
             "successful", "successfully", "gone", "yes", "yep", "yeah", "yup", "ya", "yea", "yess", "managed",
             "able", "trick", "thanks", "thank", "cheers", "legend", "lifesaver", "nice", "cool", "wonderful",
             "finally", "smoothly", "instantly", "right", "correct", "exactly", "happy", "glad", "relieved", "rock",
             "rocks", "faster", "quicker", "done", "green",
             # what the customer wanted now happens (negated: it still does not)
             "load", "loads", "loaded", "loading", "sync", "syncs", "synced", "syncing", "arrive", "arrives",
             "arrived", "arriving", "received", "receiving", "got", "connects", "connected", "opens", "opened",
             "showing", "shows", "through", "thru", "accepted", "editable", "visible", "back", "restored",
             "reappeared", "uploaded", "updated", "unlocked", "delivered", "landed", "verified", "imported",
             "exported", "installed", "downloaded", "logs", "logged"}
# Problem nouns that a resolution word right after turns into good news ("problem solved").
_RESOLUTION = {"solved", "fixed", "resolved", "gone", "sorted", "vanished", "disappeared", "cleared"}
_NEGATIVE = {"error", "errors", "fail", "fails", "failed", "failing", "failure", "broken", "broke", "stuck", "issue",
             "issues", "problem", "problems", "crash", "crashes", "crashed", "crashing", "wrong", "worse", "bug",
             "bugs", "declined", "denied", "missing", "nope", "nah", "unable", "complain", "complaints", "useless",
             "invalid", "locked", "expired", "rejected", "slow", "slower", "disappeared", "happen", "happens",
             "happened", "happening", "occurs", "nothing", "still", "same", "keeps", "freezes", "hangs", "blank",
             "greyed", "grayed"}
_NEGATORS = {"not", "no", "never", "cannot", "without", "nothing", "none", "neither", "nor", "hardly", "forget", "isnt",
             "dont", "doesnt", "didnt", "wont", "cant", "aint", "havent", "hasnt", "wasnt", "arent"}
# Weak words count less: they colour a clause more than they decide it.
_WEAK = {"still": 1.5, "same": 0.5, "keeps": 0.5, "nothing": 1.0, "great": 0.5, "good": 0.5, "nice": 0.5,
         "cool": 0.5, "fine": 0.75, "thanks": 0.75, "thank": 0.75, "right": 0.5, "correct": 0.5, "exactly": 0.5,
         "through": 0.75, "got": 0.75, "finally": 0.75, "smoothly": 0.5, "instantly": 0.5, "cheers": 0.75,
         "faster": 0.5, "quicker": 0.5, "done": 0.75,
         "awesome": 0.75, "brilliant": 0.75, "perfect": 0.75, "legend": 0.5, "wonderful": 0.5, "excellent": 0.75}
# Phrases that settle it ("all good now", "that was it"): a confirmation on their own.
_SETTLED = re.compile(r"\b(that|this)('s| was| is| did) it\b|\bthat'?s the one\b|\ball (good|sorted|set|fine|working)\b|"
                      r"\b(we'?re|i'?m) (good|sorted|set)\b|\bgood to go\b|\bsorted\b|\bit did\b", re.IGNORECASE)
# "no more 429s", "not any more": whatever it was has stopped.
_NO_MORE = re.compile(r"\bno more\b|\bnot any ?more\b(?!.*\b(work|load|sync|open|show))", re.IGNORECASE)
_NOT_THERE = re.compile(r"\b(is|are|was|were)(n'?t| not) (there|here|in (it|there))\b|\bnowhere\b|\bcan'?t find\b|"
                        r"\bcannot find\b", re.IGNORECASE)
# Words that report on the fix just tried ("still", "now it says", "tried", "did the steps"): a clause
# without them that tells a problem on another topic is a new problem, not a "no" ("the app is not syncing").
_AFTER_THE_FIX = re.compile(r"\b(still|again|now|same|anymore|yet|tried|did|done|followed|after|even|worse|instead|"
                            r"work|works|worked|working|help|helped|fixed|changed?)\b", re.IGNORECASE)
_ASKS_FOR_MORE = re.compile(r"\b(else|other|another|any ideas?|anything more|now what|what now|next)\b", re.IGNORECASE)
# Verbs of perceiving end a negation's reach: "never seen it load so fast" is praise.
_PERCEIVE = {"seen", "saw", "heard", "known", "knew", "thought", "think", "expected", "believe", "imagine"}
# Not tried yet: a promise to try, whatever words of praise come with it ("cool, I'll give it a go").
_NOT_TRIED = re.compile(r"\b(i'?ll|i will|we'?ll|going to|gonna|let me|about to|yet to|will (try|do|check|give)|"
                        r"have ?n[o']?t (tried|had a chance|done)|not (tried|done) (it |that )?yet|trying (it |that )?now|"
                        r"try (it |that |this )?(later|tomorrow|tonight|in a (bit|minute|sec))|give it a (go|try|shot)|"
                        r"(when|once) i('?m| am| get)|hang on|hold on|one (sec|moment|minute)|just a (sec|moment|minute)|"
                        r"waiting for|still (here|there)|before i (try|do)|give me (a|\d+|one|two|five) ?(sec|min|minute|"
                        r"moment|mo|bit)s?|need to find|have a look|take a look|in a (bit|sec|min|while)|after (lunch|work|my meeting))\b",
                        re.IGNORECASE)
_STANDALONE_NO = re.compile(r"^\W*(no+|nope|nah|not really|negative|nada|no dice|(i )?(do not|don'?t) think so)\b"
                            r"(?!\s+(more|longer|problems?|issues?|errors?|worries|complaints)\b)", re.IGNORECASE)

_CONTRACTIONS = [(re.compile(p, re.IGNORECASE), r) for p, r in (
    (r"[’`]", "'"), (r"\bcan'?t\b", "can not"), (r"\bwon'?t\b", "will not"), (r"n't\b", " not"),
    (r"\bno longer\b", "not"))]
# Words a negation reaches across without using up its reach ("never had an issue").
_FILLERS = {"a", "an", "the", "it", "its", "my", "our", "any", "this", "that", "really", "even", "ever", "yet",
            "at", "all", "so", "much", "single", "one"}


def _tokens(text: str) -> list[str]:
    """Lowercase words, with "," for punctuation (a negation does not reach past it)."""
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return re.findall(r"[a-z]+|[,;:.!?()]", text.lower())


def outcome_polarity(text: str) -> float:
    """> 0: the customer reports it works; < 0: it does not; 0: the clause says neither."""
    tokens = _tokens(text)
    score = -1.0 if _STANDALONE_NO.match(text) else 0.0
    score += len(_GOOD_EMOJI.findall(text)) - len(_BAD_EMOJI.findall(text))
    for i, token in enumerate(tokens):
        base = 1.0 if token in _POSITIVE else -1.0 if token in _NEGATIVE else 0.0
        if not base or base < 0 and set(tokens[i + 1:i + 3]) & _RESOLUTION:
            continue
        if token in ("able", "managed") and i + 1 < len(tokens) and tokens[i + 1] == "not":
            base = -base
        negators, reach = 0, 0
        for previous in reversed(tokens[:i]):  # up to three words back, within the phrase
            if (reach == 3 or not previous.isalpha() or previous in _POSITIVE or previous in _NEGATIVE - _NEGATORS
                    or previous in _PERCEIVE):
                break
            negators += previous in _NEGATORS
            reach += previous not in _FILLERS
        score += base * _WEAK.get(token, 1.0) * (-1) ** negators
    if _SETTLED.search(text) or _NO_MORE.search(text):
        score += 1.0
    if _NOT_THERE.search(text):
        score -= 1.0
    if "still" in tokens and score > -1.5:  # "still shows the old email": the problem persists, whatever else
        score = min(score, -0.5) if not {"works", "working", "fine"} & set(tokens) else score
    if re.search(r"\b(can|could) (now|finally)\b|\b(i|we) can (now )?(log|sign|see|access|open|use|get|download|upload|"
                 r"connect|find|pay|send|export|invite|reset)\b", text, re.IGNORECASE):
        score += 1.0
    return score


def confirms(text: str) -> bool:
    """Says outright that it works: an outcome word that is not mere politeness, or a settling phrase."""
    tokens = _tokens(text)
    return bool(_SETTLED.search(text)) or any(
        t in _POSITIVE and t not in _WEAK and t not in ("yes", "yep", "yeah", "yup", "ya", "yea", "yess")
        for t in tokens) and outcome_polarity(text) > 0


def about_another_product(text: str, kb_words: frozenset[str], product: str) -> bool:
    """Names a well-known product the help centre never mentions, and does not ask about ours."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    if not words & (OTHER_PRODUCTS - kb_words):
        return False
    ours = {"you", "your", "yours"} | set(re.findall(r"[a-z]+", product.lower()))
    return not words & ours


def wants_person(text: str, extra_patterns: list[str] = ()) -> bool:
    return any(p.search(text) for p in _HUMAN) or any(re.search(p, text, re.IGNORECASE) for p in extra_patterns)


# --- reading a message ------------------------------------------------------------------------
@dataclass(frozen=True)
class Clause:
    text: str
    act: str                   # affirm | deny | question | problem | human | greeting | thanks | ack | later | off_topic
    question: bool = False     # phrased as a question
    new_topic: bool = False    # opened with "also", "another thing", ...
    contrast: bool = False     # came after "but", "though", ...
    polarity: float = 0.0      # outcome of the fix it reports: > 0 works, < 0 does not
    same_topic: bool = False   # about the issue being worked on
    after_comma: bool = False  # split from the clause before at the comma before its question


@dataclass(frozen=True)
class Reading:
    intent: Intent
    questions: list[str] = field(default_factory=list)  # what to answer now, first is the main one
    clauses: list[Clause] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The message without greetings, thanks and other small talk: what retrieval should read."""
        return joined([c for c in self.clauses if c.act not in SMALL_TALK])

    @property
    def small_talk(self) -> str:
        """greeting | later | thanks | ack: what kind of small talk, for the reply ("" otherwise)."""
        if self.intent != "small_talk":
            return ""
        acts = {c.act for c in self.clauses}
        return next((kind for kind in ("greeting", "later", "thanks") if kind in acts), "ack")


SMALL_TALK = ("greeting", "thanks", "ack", "later")  # "later": not tried yet ("I'll try it tonight")
CONTENT = ("question", "problem")


def split_clauses(message: str) -> list[tuple[str, bool, bool, bool]]:
    """(clause, opened a new topic, came after a "but", split off at a comma before its question) for each
    clause of the message. A marker on its own ("Unrelated, but ...", "Another thing:") opens the clause after it."""
    clauses: list[tuple[str, bool, bool, bool]] = []
    pending_topic = False
    for sentence in _SENTENCES.split(message.strip()):
        greeting = _LEADING_GREETING.match(sentence)
        if greeting:
            clauses.append((greeting.group(1).capitalize(), False, False, False))
            sentence = sentence[greeting.end():]
        for number, contrasted in enumerate(_CONTRAST.split(sentence)):
            for at_comma, part in enumerate(COMMA_QUESTION.split(contrasted)):
                part = part.strip(" ,")
                new_topic = pending_topic or bool(_NEW_TOPIC.match(part)) or bool(_ANOTHER_ONE.search(part))
                part = _NEW_TOPIC.sub("", part) if _NEW_TOPIC.match(part) else _OPENER.sub("", part)
                part = part.strip(" ,-")
                if not re.search(r"\w", part):
                    pending_topic = new_topic  # only a marker: it belongs to what follows
                    continue
                pending_topic = False
                clauses.append((part[0].upper() + part[1:], new_topic, number > 0, at_comma > 0))
    return clauses


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # embedder -> examples' vectors
_CACHE_LOCK = threading.Lock()


def _example_vectors(embedder: Embedder, examples: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Each act's example vectors, embedded once per embedder (agents and tests share a model)."""
    with _CACHE_LOCK:
        cached = _CACHE.get(embedder)
        if cached is None or cached[0] is not examples:
            texts = [text for phrasings in examples.values() for text in phrasings]
            vectors = np.asarray(embedder.embed(texts))
            by_act, start = {}, 0
            for act, phrasings in examples.items():
                by_act[act], start = vectors[start:start + len(phrasings)], start + len(phrasings)
            cached = (examples, by_act)
            _CACHE[embedder] = cached
        return cached[1]


def words_of(texts) -> frozenset[str]:
    """The lowercase words of some texts (a knowledge base's vocabulary)."""
    return frozenset(word for text in texts for word in re.findall(r"[a-z]+", text.lower()))


# Content words that ask for help or report trouble without saying with what ("It doesn't work", "I need help").
_SAYS_NOTHING = frozenset(content_stems("help problem issue trouble wrong broken break work error need something "
                                        "anything nothing thing question fix support assist assistance hi hello hey "
                                        "want like know another different new separate"))


def says_what(text: str) -> bool:
    """Whether a message names what it is about: a content word beyond those of a bare request for help.
    "It doesn't work" and "Can you help me?" do not; "I can't log in" does."""
    return bool(content_stems(text) - _SAYS_NOTHING)


def is_question(text: str) -> bool:
    return text.rstrip().endswith("?") or (bool(_QUESTION_START.match(text)) and len(text.split()) >= 3)


class IntentClassifier:
    """Reads messages with rules and the labelled example phrasings; light until ``warm_up``."""

    def __init__(self, embedder: Embedder, examples: dict[str, list[str]] = EXAMPLES) -> None:
        self.embedder = embedder
        self.examples = examples
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if not self._vectors:
                self._vectors = _example_vectors(self.embedder, self.examples)

    def nearest_act(self, vectors: np.ndarray, allowed: tuple[str, ...]) -> list[str]:
        """The act whose examples are closest (mean of the two nearest) to each clause vector.
        Small talk is formulaic: a clause like none of its examples (below SMALL_TALK_FLOOR) is a request."""
        scores = np.stack([np.sort(vectors @ self._vectors[act].T, axis=1)[:, -2:].mean(axis=1) for act in allowed])
        for row, act in enumerate(allowed):
            if act in SMALL_TALK:
                scores[row] = np.where(scores[row] < SMALL_TALK_FLOOR, -1.0, scores[row])
        return [allowed[i] for i in scores.argmax(axis=0)]

    def read(self, message: str, awaiting: str | None = None, previous_issue: str = "",
             human_patterns: list[str] = (), kb_words: frozenset[str] = frozenset(), product: str = "",
             gave_detail: bool = False) -> Reading:
        """``kb_words``: the help centre's vocabulary (a brand it mentions is on topic); ``product``:
        what customers call it (a question naming it is ours); ``gave_detail``: the message names a
        value of the detail the agent just asked for ("iPhone"), or only such a value after an answer."""
        self.warm_up()
        parts = split_clauses(message) or [(message.strip(), False, False, False)]
        follow_up = awaiting in ("confirm", "clarify")
        alone = sum(not _GREETING.match(part[0]) for part in parts) == 1  # all the message says, beside a "hi"
        vectors = np.asarray(self.embedder.embed([part[0] for part in parts] + [previous_issue or "-"]))
        allowed = ("question", "problem", "greeting", "thanks", "ack", "off_topic")  # a person: rules only
        guesses = self.nearest_act(vectors[:-1], allowed + (("affirm", "deny") if follow_up else ()))
        clauses = []
        for (text, new_topic, contrast, after_comma), guess, vector in zip(parts, guesses, vectors[:-1]):
            # A question asks; it does not report how the fix went ("what happens if I cancel?").
            # Nor does a clause that opens another topic ("I have another problem").
            polarity = outcome_polarity(text) if follow_up and not is_question(text) and not new_topic else 0.0
            if wants_person(text, human_patterns):
                act = "human"
            elif _GREETING.match(text):
                act = "greeting"
            elif follow_up and _NOT_TRIED.search(text) and not is_question(text):
                act, polarity = "later", 0.0
            elif _THANKS.match(text):
                act = "affirm" if awaiting == "confirm" else "thanks"
            elif _PLEASANTRY.match(text):
                act = "thanks"
            elif polarity:
                act = "affirm" if polarity > 0 else "deny"
            elif not follow_up and alone and (ONLY_HELP.match(text)
                                              or guess in ("thanks", "ack", "off_topic") and outcome_polarity(text) < 0):
                act = "problem"  # "I need help" or "It doesn't work" opening a chat: a problem not yet told
            elif (guess in SMALL_TALK and (is_question(text) or len(text.split()) > 6)
                  and not _THANKS.match(text) and not _PLEASANTRY.match(text)):
                act = self.nearest_act(vector[None, :], ("question", "problem", "off_topic"))[0]  # too long for a "hi"
            else:
                act = guess
            if act == "problem" and is_question(text) or act == "affirm" and is_question(text):
                act = "question"
            elif act == "deny" and is_question(text) and not _ASKS_FOR_MORE.search(text):
                act = "question"  # "what else can I try?" says it failed; "how do I pick a channel?" asks
            elif act == "deny" and new_topic:
                act = "problem"  # "I have another problem" reports nothing about the fix
            if act in CONTENT and about_another_product(text, kb_words, product):
                act = "off_topic"
            same = bool(previous_issue) and float(vector @ vectors[-1]) >= SAME_TOPIC
            if (act == "deny" and guess in CONTENT and not same and not _AFTER_THE_FIX.search(text)
                    and not _STANDALONE_NO.match(text)):
                act = "problem"  # told with a "not", but about something else: a new problem
            clauses.append(Clause(text, act, is_question(text), new_topic, contrast, polarity, same, after_comma))
        if any(c.polarity for c in clauses):  # the rules read the outcome: the examples' guess of it is not needed
            clauses = [c if c.polarity or c.act not in ("affirm", "deny") else
                       Clause(c.text, "question" if c.question else "ack", c.question, c.new_topic, c.contrast, 0.0,
                              c.same_topic, c.after_comma) for c in clauses]
        return Reading(_combine(clauses, awaiting, gave_detail), _questions(clauses), clauses)


SAME_TOPIC = 0.45  # cosine between a follow-up's problem and the issue being worked on
SMALL_TALK_FLOOR = 0.3


def _combine(clauses: list[Clause], awaiting: str | None, gave_detail: bool = False) -> Intent:
    acts = [c.act for c in clauses]
    if "human" in acts:
        return "human"
    questions = [c for c in clauses if c.act == "question"]
    problems = [c for c in clauses if c.act == "problem"]
    if awaiting == "confirm":
        # A problem with the issue being worked on means the fix did not work; another topic is a new issue.
        # (A problem told without a negative word, beside "all fine", is the story of the fix.)
        same_problem = [c for c in problems if c.same_topic and not c.new_topic
                        and not (c.polarity == 0 and "affirm" in acts)]
        if "deny" in acts or same_problem:
            return "retry"
        # After "it worked", any question is asked of us; retrieval decides whether it is ours to answer.
        new = questions + problems + [c for c in clauses if c.act == "off_topic" and c.question]
        # Praise beside "I'll try it later" is politeness, not a confirmation.
        confirmed = "later" not in acts or any(confirms(c.text) for c in clauses if c.act == "affirm")
        if "affirm" in acts and confirmed:
            return "resolved_and_new" if new else "resolved"
        if gave_detail and not questions:
            return "clarify_answer"  # the fix again, for the device just named
        if questions + problems:
            return "new_issue"
    elif awaiting == "clarify":
        # Nothing was tried yet: it may work by itself, or the customer moves on to something else.
        if any(c.act == "affirm" and confirms(c.text) for c in clauses):
            return "resolved_and_new" if questions else "resolved"
        # A statement answers the question asked ("I use the web app"); a question or a marked
        # change of subject ("actually, how do I cancel?") starts a new issue.
        if [c for c in questions + problems if c.question or c.new_topic]:
            return "new_issue"
        if set(acts) - set(SMALL_TALK) - {"off_topic"} or gave_detail:
            return "clarify_answer"
    elif questions or problems:
        return "new_issue"
    if "off_topic" in acts:
        return "off_topic"
    if set(acts) <= set(SMALL_TALK) | {"affirm", "deny"}:
        return "small_talk"
    return "new_issue"


def _questions(clauses: list[Clause]) -> list[str]:
    """The questions to answer: one per question clause when there are several (context
    before the first joins it), else the whole message without small talk."""
    content = [c for c in clauses if c.act in CONTENT or c.act == "off_topic"]
    asked = [c for c in content if c.question and not ONLY_HELP.match(c.text)]
    if len(asked) < 2:
        return [joined(content)] if content else []
    context = []
    for clause in content:
        if clause is asked[0]:
            break
        context.append(clause)
    return [joined(context + [asked[0]])] + [c.text for c in asked[1:]]


def joined(clauses: list[Clause]) -> str:
    """The clauses as one text, each split off at a comma joined back the way it was written
    ("..., how do I do that?"): the summary reads a statement and its question as one sentence."""
    text = ""
    for clause in clauses:
        if text and clause.after_comma:
            first = clause.text.split(maxsplit=1)[0]
            lowered = clause.text if first.isupper() or first.startswith("I'") else clause.text[0].lower() + clause.text[1:]
            text += f", {lowered}"
        else:
            text += f" {clause.text}" if text else clause.text
    return text
