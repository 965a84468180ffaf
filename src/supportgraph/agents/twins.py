"""Deterministic, grounded twins of the LLM steps.

They answer with no model: an extractive one-sentence summary, numbered steps
copied from the cited article, template questions. Every step they produce is
text from a retrieved article.
"""

from __future__ import annotations

import bisect
import itertools
import re

from bm25s.stopwords import STOPWORDS_EN_PLUS

from supportgraph.agents import grounding
from supportgraph.agents.guardrails import looks_like_injection
from supportgraph.agents.intent import COMMA_QUESTION, ONLY_HELP
from supportgraph.knowledge.articles import HEADING, Article, numbered_items
from supportgraph.knowledge.lexical import stems

GREETING = re.compile(r"^(hi|hello|hey|good (morning|afternoon|evening)|dear [\w ]+|thanks?( you)?|cheers)\b[\s,!.]*",
                      re.IGNORECASE)
# Spoken fillers that open a typed message ("Yeah, um, I'm looking for...", "Look, ..."): not part of the issue.
FILLER = re.compile(r"^(?:(?:yeah|yes|ok(?:ay)?|well|so|anyways?|look|say|listen)\s*,\s*|(?:um+|uh+|erm+|hmm+)\b[\s,]*)+", re.IGNORECASE)
SIGNAL_WORDS = re.compile(
    r"\b(can'?t|cannot|won'?t|not|no|never|error|fail\w*|broken|charged|refund\w*|lost|locked|delete\w*|"
    r"cancel\w*|how|why|where|what|when|help|issue|problem|stuck|missing|crash\w*|sync\w*|down|slow)\b",
    re.IGNORECASE)
# Whose is what: the customer's words in our voice ("my invoice" -> "your invoice", "do you
# accept" -> "we accept"). One pass, so "I" -> "you" and "you" -> "we" do not undo each other.
_SWAP = {"i was": "you were", "i am": "you are", "i wasn't": "you weren't", "i": "you", "i'm": "you're",
         "im": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll", "me": "you", "my": "your",
         "mine": "yours", "myself": "yourself", "we": "you", "we're": "you're", "we've": "you've", "our": "your",
         "ours": "yours", "us": "you", "ourselves": "yourselves", "your": "our", "yours": "ours",
         "yourself": "ourselves"}
_PERSON_WORD = re.compile(r"\b(i was|i am|i wasn't|i'm|im|i've|i'd|i'll|i|me|my|mine|myself|we're|we've|we|our|ours|"
                          r"us|ourselves|you|your|yours|yourself)\b", re.IGNORECASE)
_US_AFTER = re.compile(r"(to|for|with|from|at|by|of|tell|give|send|email|call|ask|help|contact|pay|let|"
                       r"charged|charge|told|emailed|sent|want|wanted|need|needed|like|expect|expected)$", re.IGNORECASE)
_PAST = {"get": "got", "send": "sent", "go": "went", "see": "saw", "pay": "paid", "take": "took", "make": "made",
         "lose": "lost", "buy": "bought", "give": "gave", "find": "found", "say": "said", "tell": "told",
         "put": "put", "set": "set", "cut": "cut", "do": "did", "have": "had", "come": "came", "stop": "stopped"}
_DO_WORDS = ("do", "does", "did")
_COPULAS = ("is", "are", "was", "were")
_MODALS = ("can", "could", "will", "would", "should", "may", "might", "must")
_AUX_WORDS = _DO_WORDS + _MODALS + _COPULAS + ("am", "have", "has")
_AUX = f"({'|'.join(_AUX_WORDS)})"
_PRONOUNS = ("i", "we", "you", "he", "she", "it", "they")
_DETERMINERS = ("my", "our", "your", "the", "this", "that", "these", "those", "a", "an", "some", "two", "three")
_SUBJECTS = f"({'|'.join(_PRONOUNS + ('there', 'anyone', 'anybody', 'someone', 'somebody') + _DETERMINERS)})"
_WH_WORDS = ("what", "which", "who", "how", "why", "where", "when")
_WH = f"{'|'.join(('how many', 'how much', 'how long', 'how often') + _WH_WORDS)}"
MAX_SUMMARY_WORDS = 30
# A matched passage shorter than this is a heading's worth ("Money for tuition"), not an answer. Chosen by
# reading; docs/benchmarks.md#retrieval-quality gives answer similarity at 6, 12 and 20.
MIN_ANSWER_WORDS = 12


def sentences(text: str) -> list[str]:
    return [s.strip() for s in grounding.join_abbreviations(re.split(r"(?<=[.!?])\s+", text.strip())) if s.strip()]


def _swap_persons(text: str) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(0).lower()
        if match.group(0) == "US":  # the country
            return "US"
        if word == "you":  # us as the object, we as the subject
            before = text[:match.start()].split()
            return "us" if before and _US_AFTER.match(before[-1].strip(",")) else "we"
        return _SWAP[word]
    return _PERSON_WORD.sub(swap, text)


def _inflect(rest: str, aux: str) -> str:
    """The verb after "did"/"does" carries the tense once the auxiliary goes ("did you charge" -> "charged")."""
    verb, _, tail = rest.partition(" ")
    lowered = verb.lower()
    if aux == "did":
        verb = _PAST.get(lowered) or (lowered + "d" if lowered.endswith("e") else lowered + "ed")
    elif aux == "does" and not lowered.endswith("s"):
        verb = lowered + ("es" if lowered.endswith(("sh", "ch", "x", "o")) else "s")
    return f"{verb} {tail}".strip()


def _clause(subject: str, aux: str, rest: str) -> str | None:
    """subject + verb phrase in statement order: "you" "did" "charge me" -> "we charged you"."""
    subject = subject.lower()
    if subject in _DETERMINERS:  # "is my data safe" -> "your data is safe"
        if aux in ("do", "does", "did"):
            return None  # where the noun ends and the verb starts needs a parser: keep the question
        noun, _, rest = rest.partition(" ")
        subject = f"{subject} {noun}"
    if aux in ("do", "does", "did"):
        return f"{_swap_persons(subject)} {_swap_persons(_inflect(rest, aux))}".strip()
    if subject in ("i", "we") and aux in ("is", "am", "are", "was", "were"):
        aux = {"is": "are", "am": "are", "was": "were"}.get(aux, aux)
    return f"{_swap_persons(subject)} {aux} {_swap_persons(rest)}".strip()


_PREPOSITIONS = frozenset("of for to in on at by with from about between into like under over after before during "
                          "without within through across against among per via around than as regarding".split())
# Words that open a clause of their own: the asked-about thing ends before them.
_CLAUSE_OPENERS = frozenset("if when whenever while because since so that which who whom whose where unless once "
                            "compared versus vs although though whether".split())
_VERBS = frozenset(_AUX_WORDS + ("had",))
_LONG_TAIL = 6  # more words than this after the noun and the copula goes right after the noun, not at the end


def _identity_clause(words: list[str], copula: str) -> str:
    """ "what is <the thing ...>" in statement order: the copula after the thing asked about ("what the
    feedback center is for", "what the next steps are if ...", "what the IPv6 range used by X is"). Where
    the thing ends is read from function words, not parsed: up to a clause of its own, and within that up to
    its first preposition when a long phrase follows (a participle keeps the whole phrase: "used by X")."""
    plain = [w.lower().strip(",;:") for w in words]
    # ("... for and what happens when ...": "and" before a wh-word opens a second question.)
    end = next((i for i in range(1, len(words)) if plain[i] in _CLAUSE_OPENERS or words[i - 1].endswith(",")
                or plain[i] in ("and", "or") and i + 1 < len(words) and plain[i + 1] in _WH_WORDS), len(words))
    thing, rest = words[:end], words[end:]
    core = next((i for i in range(1, end) if plain[i] in _PREPOSITIONS | _VERBS), end)
    participle = any(w.endswith("ed") for w in plain[2:core])
    if (core < end and plain[core] in _VERBS) or participle:
        at = end                     # "the actions CDC is taking ... are"
    elif plain[end - 1] in _PREPOSITIONS and end > 2:
        at = end - 1                 # a stranded preposition: "... is for"
    elif end - core > _LONG_TAIL:
        at = core                    # "the key differences are between A and B in terms of ..."
    else:
        at = end
    before, after = thing[:at], thing[at:]
    comma = "," if before[-1].endswith(",") else ""
    before[-1] = before[-1].rstrip(",")
    return " ".join(before + [copula + comma] + after + rest)


# A request for information put as a question to us or as a request ("Could you please give me some information
# about X?", "Show me information about X"): what they would like to know is X, not whether we could.
_TELL_ME = re.compile(r"^(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?(?:tell|give|send|show)\s+(?:me|us)\s+"
                      r"(?:(?:some|more|any|additional|further|the)\s+)?(?:(?:information|info|details)\s+)?"
                      r"(about|on|regarding|how|what|when|where|whether|if|why|which|who)\s+(.+)$", re.IGNORECASE)


def _as_statement(question: str) -> str | None:
    """A question as what the customer would like to know ("can I X?" -> "whether you can X")."""
    q = question.rstrip(" ?!.")
    request = _TELL_ME.match(q)
    if request:
        word = {"on": "about", "regarding": "about", "if": "whether"}.get(request.group(1).lower(), request.group(1).lower())
        return f"{word} {_swap_persons(request.group(2))}"
    how = re.match(r"^(how|where|when)\s+(?:(?:do|can|should|could)\s+(?:i|we)|(?:can|should|could)\s+you)\s+(.+)$", q,
                   re.IGNORECASE)  # "How can you export ..." asks how one does it
    if how:
        return f"{how.group(1).lower()} to {_swap_persons(how.group(2))}"
    means = re.match(r"^what\s+(does|do)\s+(.+?)\s+mean$", q, re.IGNORECASE)
    if means:
        return f"what {_swap_persons(means.group(2))} {'means' if means.group(1).lower() == 'does' else 'mean'}"
    yes_no = re.match(rf"^{_AUX}\s+{_SUBJECTS}\b\s*(.*)$", q, re.IGNORECASE)
    if yes_no:
        clause = _clause(yes_no.group(2), yes_no.group(1).lower(), yes_no.group(3))
        return f"whether {clause}" if clause else None
    wh = re.match(rf"^({_WH})\s+(.*?){_AUX}\s+{_SUBJECTS}\b\s*(.*)$", q, re.IGNORECASE)
    if wh and wh.group(1).lower() in ("what", "which", "who") and wh.group(3).lower() in _COPULAS \
            and wh.group(4).lower() in _DETERMINERS:  # "what is the feedback center for" -> "what the ... is for"
        named = _identity_clause(f"{wh.group(4)} {wh.group(5)}".split(), wh.group(3).lower())
        return f"{wh.group(1).lower()} {wh.group(2)}{_swap_persons(named)}"
    if wh:
        clause = _clause(wh.group(4), wh.group(3).lower(), wh.group(5))
        return f"{wh.group(1).lower()} {wh.group(2)}{clause}" if clause else None
    after_do = _without_do(q)
    if after_do:
        return after_do
    wh_subject = re.match(r"^(what|which|who)\s+(.+)$", q, re.IGNORECASE)  # "what happens to my files"
    if wh_subject:
        return f"{wh_subject.group(1).lower()} {_swap_persons(wh_subject.group(2))}"
    return None


def _without_do(q: str) -> str | None:
    """After "do" the subject, however long, is followed by the verb as a statement has it: "do pregnant women
    pass it on" -> "whether pregnant women pass it on" ("does" and "did" move their tense onto a verb a parser
    must find). Not when "do" is the verb itself: "what to do if ...", "what shall I do at work"."""
    found = re.match(rf"^(?:({_WH})\s+(.*?))?\bdo\s+(?!not\b)(.+)$", q, re.IGNORECASE)
    if not found:
        return None
    wh, between, rest = found.group(1), (found.group(2) or "").lower().split(), found.group(3)
    if set(between) & set(_AUX_WORDS + _PRONOUNS + ("to", "shall")) \
            or rest.split()[0].lower() in _PREPOSITIONS | _CLAUSE_OPENERS:
        return None
    return f"{wh.lower()} {found.group(2)}{_swap_persons(rest)}" if wh else f"whether {_swap_persons(rest)}"


_QUESTION_START = re.compile(rf"^({'|'.join(_WH_WORDS)}|{_AUX})\b", re.IGNORECASE)
_CONDITION = re.compile(r"^(?:if|when|once|after|before|unless|in case)\b", re.IGNORECASE)


def _capped(text: str) -> str:
    words = text.split()
    return " ".join(words[:MAX_SUMMARY_WORDS]) + "..." if len(words) > MAX_SUMMARY_WORDS else text


# A question inside a statement keeps statement order: "I'm curious what benefits may I be due" -> "... what
# benefits I may be due". Only a pronoun subject: where a noun subject ends needs a parser.
_EMBEDDED_QUESTION = re.compile(rf"\b({'|'.join(_WH_WORDS + ('whether',))})((?:\s+[\w'-]+){{0,3}}?)\s+"
                                rf"({'|'.join(_MODALS + _COPULAS + ('am',))})\s+({'|'.join(_PRONOUNS)})\b", re.IGNORECASE)


def _statement_sentence(text: str) -> str:
    text = _swap_persons(_EMBEDDED_QUESTION.sub(r"\1\2 \4 \3", text)).rstrip(" .!?,;")
    return text[0].upper() + text[1:] + "."


def _issue_weight(sentence: str) -> tuple[int, int, bool]:
    """How much a sentence of the message states the issue: its signs of a problem or request, then how
    much it says ("We're on Pro. Can we hook Kitebase up to Salesforce?": the second), then whether it
    asks; between equals, the first."""
    words = (w.split("'")[0] for w in re.findall(r"[\w']+", sentence.lower()))  # "i'm" -> "i"
    said = [w for w in words if w not in STOPWORDS_EN_PLUS]
    asks = sentence.rstrip().endswith("?") or bool(_QUESTION_START.match(sentence))
    return len(SIGNAL_WORDS.findall(sentence)), len(said), asks


_TRAILING_PLEASE = re.compile(r"[\s,]+please(?=[\s.!?]*$)", re.IGNORECASE)  # "info about X, please."


def summarize_issue(message: str) -> str:
    """One sentence, in the second person, saying what the customer needs (never empty)."""
    candidates = [FILLER.sub("", GREETING.sub("", s)).strip(" ,") for s in sentences(message)]
    candidates = [c for c in candidates if re.search(r"\w", c)]
    # "Can you help me?" beside the request says nothing the request doesn't.
    candidates = [c for c in candidates if not ONLY_HELP.match(c)] or candidates
    if not candidates:
        return "You got in touch with us."
    best = _TRAILING_PLEASE.sub("", max(candidates, key=_issue_weight))
    # What happened, then what they ask about it: "..., how do I do that?" (the intent reader joins a clause it
    # split there back the same way, intent.joined).
    context, _, question = COMMA_QUESTION.sub("\n", best, count=1).partition("\n")
    if question and len(context.split()) >= 3 and (not _QUESTION_START.match(context) or _CONDITION.match(context)):
        if ONLY_HELP.match(question):
            return _statement_sentence(_capped(context))
        statement = _as_statement(question)
        if statement and _CONDITION.match(context):  # "If we sign your DPA, will you ...?" asks on a condition
            condition = _swap_persons(_capped(context)).rstrip(" ,")
            return f"You'd like to know {statement} {condition[0].lower() + condition[1:]}."
        if statement:
            return f"{_statement_sentence(_capped(context))[:-1]}, and you'd like to know {statement}."
    best = _capped(best)
    if _QUESTION_START.match(best) or _TELL_ME.match(best.rstrip(" ?!.")):
        statement = _as_statement(best)
        if statement:
            return f"You'd like to know {statement}."
        question = _swap_persons(best.rstrip(" ?!."))
        return f"You asked: {question[0].lower() + question[1:]}?"
    return _statement_sentence(best)


def also_asked(summary: str) -> str:
    """A second question's summary as the line that introduces its answer."""
    for start, replacement in (("You'd like to know ", "You also asked "), ("You asked: ", "You also asked: ")):
        if summary.startswith(start):
            return replacement + summary[len(start):]
    return f"You also mentioned: {summary[0].lower() + summary[1:]}"


_LIST_ITEM = re.compile(r"^\s*(\d+[.)]|[-*+>])\s+")


# How a sentence ends: its stop, then any closing quote, bracket or emphasis.
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]*_]*$")


def prose_sentences(text: str, list_items: bool = True) -> list[str]:
    """A passage's sentences, clean: no headings, list markers or markdown emphasis, none glued to
    the next line, no repeats, each of three words or more (list items too, unless told not to).
    Beside complete sentences, a line with no closing stop is a page's title, a link or a table row
    that export ran into the text: it is left out (alone, it is the answer), unless it follows a
    line ending in ':' (a list whose markers were lost)."""
    found: dict[str, bool] = {}  # sentence -> a loose fragment
    seen: set[str] = set()
    after_colon = False
    for line in text.splitlines():
        line = line.strip()
        if not line or HEADING.match(line) or (not list_items and _LIST_ITEM.match(line)):
            continue
        in_list = bool(_LIST_ITEM.match(line)) or after_colon
        after_colon = line.endswith(":") or (after_colon and line[-1:] not in ".!?")
        line = re.sub(r"(\*\*|__|`)", "", _LIST_ITEM.sub("", line))
        for sentence in sentences(line):
            if len(sentence.split()) >= 3 and _key(sentence) not in seen and not looks_like_injection(sentence):
                found[sentence] = not in_list and not _SENTENCE_END.search(sentence)
                seen.add(_key(sentence))
    # A sentence repeated with more after it ("... formats, specifically:" then the same with the list run on) once,
    # and once without a heading the export ran into it ("Claude decides to use a tool Claude assesses ...").
    ordered = sorted(found)
    endings = _endings(found)
    found = {s: loose for s, loose in found.items() if not _has_longer(s, ordered) and not _has_heading_run_in(s, endings)}
    complete = [s for s, loose in found.items() if not loose]
    return [s for s, loose in found.items() if not loose or not complete]


def _has_longer(sentence: str, ordered: list[str]) -> bool:
    """Whether another of the (sorted) sentences starts with this one, less a closing ':'."""
    stem = sentence.rstrip(":")
    at = bisect.bisect_left(ordered, stem)
    return any(other != sentence for other in itertools.takewhile(lambda o: o.startswith(stem), ordered[at:]))


def _key(sentence: str) -> str:
    """What makes two sentences the same: not the spaces an export left before punctuation ("tool_use , signaling")."""
    return re.sub(r"\s+(?=[,.;:!?)])", "", sentence)


_RUN_IN = 4  # words a sentence needs before a longer line that ends with it counts as a heading run into it


def _endings(found: dict[str, bool]) -> dict[tuple[str, ...], list[str]]:
    """The sentences that could have a heading run into them elsewhere, by their last three words."""
    endings: dict[tuple[str, ...], list[str]] = {}
    for sentence in found:
        if len(sentence.split()) >= _RUN_IN and sentence[:1].isupper():
            endings.setdefault(tuple(sentence.split()[-3:]), []).append(sentence)
    return endings


def _has_heading_run_in(sentence: str, endings: dict[tuple[str, ...], list[str]]) -> bool:
    """Whether the sentence is another one with words before it that a stop or comma does not close (a
    heading: "Example metrics Quantitative metrics: ..."; "If you are an admin, Open ..." is a sentence)."""
    for other in endings.get(tuple(sentence.split()[-3:]), ()):
        lead = sentence[:-len(other)]
        if other != sentence and sentence.endswith(other) and lead.strip() and lead.rstrip()[-1] not in ",;:(-–—":
            return True
    return False


def _starts_mid_sentence(sentence: str) -> bool:
    """A lower-case start is the tail of a sentence cut off before it ("iPhone" is not)."""
    return sentence[:1].islower() and not sentence[1:2].isupper()


# A sentence that opens by pointing back ("After that, start a new export", "This takes a day") needs the
# one before it: it never leads an answer on its own.
_POINTS_BACK = re.compile(r"^(?!(?-i:IT)\b)(?:after (?:that|this)|afterwards|then|next|also|finally|however|otherwise|instead|"
                          r"again|in that case|if so|if not|once (?:that|this|done)|as a result|to do (?:that|this)|"
                          r"this|that|these|those|it|they)\b",
                          re.IGNORECASE)


def _standalone(chosen: list[str], whole: list[str]) -> list[str]:
    """``chosen`` (in the article's order) with each sentence that points back preceded by the one it
    points to; the lead may not start with a pointing sentence the article gives nothing before."""
    kept: list[str] = []
    for sentence in chosen:
        position = whole.index(sentence)
        if _POINTS_BACK.match(sentence) and (not kept or kept[-1] != whole[position - 1]):
            if position == 0:
                continue
            if whole[position - 1] not in kept:
                kept.append(whole[position - 1])
        kept.append(sentence)
    return kept


def _overlaps(candidates: list[str], question: str, words) -> tuple[list[str], dict[str, int]]:
    """The complete statements among ``candidates`` (a question, a list item or a line ending in ':' never
    answers), once each, with how many of the question's ``words`` each shares."""
    whole = list(dict.fromkeys(c for c in candidates if c.rstrip()[-1:] in ".!"))
    wanted = words(question)
    return whole, {c: len(wanted & words(c)) for c in whole}


def _focused(candidates: list[str], question: str, n: int) -> list[str]:
    """The ``n`` sentences sharing most words with the question, in the article's order (the first
    ``n`` when none shares any), each that points back with the sentence before it. Only complete
    statements: not a question, a list item or a line ending in ':'."""
    whole, overlap = _overlaps(candidates, question, lambda text: set(stems(text)))
    if not any(overlap.values()):
        return _standalone(whole[:n], whole)
    best = sorted(whole, key=lambda c: -overlap[c])[:n]
    return _standalone([c for c in whole if c in best and overlap[c]], whole)


def numbered_steps(text: str) -> list[str]:
    """The numbered steps in ``text``: a list of two items or more (one numbered line is a heading that
    export kept its number: "1. Choose the right model")."""
    items = numbered_items(text)
    return items if len(items) >= 2 else []


def _step_section(article: Article, slots: dict[str, str], labels: dict[str, str], passage_section: str):
    """The numbered list to offer: the one for the customer's device, else the one holding the passage
    that matched the question, else the article's steps."""
    sections = article.sections()
    step_sections = [s for s in sections if s.heading.lower().startswith("steps")]
    for value in slots.values():
        chosen = next((s for s in step_sections if f"({value})" in s.heading.lower().replace(" ", "")
                       or f"({labels.get(value, value).lower()})" in s.heading.lower()), None)
        if chosen:
            return chosen
    matched = next((s for s in sections if s.heading == passage_section and numbered_steps(s.text)), None)
    return (matched or next((s for s in step_sections if s.heading.lower() == "steps"), None)
            or next((s for s in step_sections), None) or next((s for s in sections if numbered_steps(s.text)), None))


def answer_from_article(article: Article, slots: dict[str, str], labels: dict[str, str],
                        passage_section: str = "", passage_text: str = "", question: str = "") -> tuple[str, list[str]]:
    """(lead, steps) taken from the article, no word added.

    Steps: the numbered list that fits (the customer's device, the section of the passage that
    matched the question, the article's steps). Lead: the matched passage's sentences closest to
    the question when they explain rather than repeat the steps, else the article's first
    sentence. An article with no numbered list answers with the matched passage's sentences
    (``labels`` maps a slot value to the word used in section headings: ``ios`` -> ``iOS``).
    """
    section = _step_section(article, slots, labels, passage_section)
    items = [i for i in numbered_steps(section.text) if not looks_like_injection(i)] if section else []
    if items:
        explanation = prose_sentences(passage_text, list_items=False)
        lead = _focused(explanation, question, 2) if passage_section != section.heading else []
        return (" ".join(lead) if lead and not any(p in items for p in lead) else intro_sentence(article)), items
    # No passage given: the article's opening sentences.
    passage = (prose_sentences(passage_text) if passage_text else []) or _article_sentences(article)
    # An FAQ's question inside a page ("Can I get benefits if I volunteered ...?") asks, it does not answer;
    # the page's title repeated as its first line ("1. Choose the right model") is a heading.
    title = _LIST_ITEM.sub("", article.title).rstrip(".").lower()
    passage = [s for s in passage if not s.endswith("?") and s.rstrip(".").lower() != title] or passage
    # A chunk cut mid-story: start where it stands alone (nowhere, when it is one list item's tail).
    start = next((i for i, s in enumerate(passage) if not (_POINTS_BACK.match(s) or _starts_mid_sentence(s))),
                 len(passage))
    standing = passage[start:]
    if sum(len(s.split()) for s in standing) < MIN_ANSWER_WORDS:  # a heading's worth: the article's closest sentences follow
        standing += [s for s in _focused(_article_sentences(article), question, 3) if s not in standing]
    return "", (standing or passage)[:5]


def more_from_article(article: Article, question: str, shown: list[str]) -> list[str]:
    """For a second question the same article answers ("..., and can we object?"): the article's sentences
    that share most words with it and are not already in the reply; none when the reply says it already."""
    said = " ".join(shown)
    # Content words only: "can we object?" is about "object", and a sentence sharing only "we" is no answer.
    whole, overlap = _overlaps(_article_sentences(article), question, grounding.content_stems)
    most = max(overlap.values(), default=0)
    if not most or any(overlap[s] == most and s in said for s in whole):
        return []  # nothing here is about it, or the reply already holds the closest sentence
    best = sorted((s for s in whole if overlap[s]), key=lambda s: -overlap[s])[:2]
    return _standalone([s for s in whole if s in best and s not in said], whole)


def _article_sentences(article: Article) -> list[str]:
    """The article's sentences, its "if that didn't help" section left out (read only when a passage falls short)."""
    return prose_sentences("\n".join(s.text for s in article.sections() if not s.heading.lower().startswith("if that")))


def steps_from_article(article: Article, slots: dict[str, str], labels: dict[str, str]) -> list[str]:
    """Numbered steps from the article section that fits the customer's details (answer_from_article)."""
    return answer_from_article(article, slots, labels)[1]


def intro_sentence(article: Article) -> str:
    first = article.sections()[0] if article.sections() else None
    if first is None or first.heading != article.title:
        return ""
    found = prose_sentences(first.text)
    return found[0] if found else ""


def is_grounded(step: str, sources: list[str]) -> bool:
    """The grounding check's rules that need no model (agents/grounding.py): no secret asked, every number,
    address and menu path in the sources, and enough of their words for the check's score to be reachable.
    The twin's steps are the article's text; a model's steps have passed the whole check already."""
    return grounding.passes_text_rules(step, sources)
