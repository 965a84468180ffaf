"""The grounding check's decision rules, with the hash embedder (no model): which steps it keeps and why.

The thresholds themselves are measured with the real model by bench/grounding.py and held by
tests/integration/test_grounding_quality.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from supportgraph.agents import twins
from supportgraph.agents.grounding import (
    Evidence,
    GroundingCheck,
    Thresholds,
    decide,
    passes_text_rules,
    split_sentences,
)
from supportgraph.agents.step_rules import asks_for_secret, missing_facts, points_elsewhere
from supportgraph.evals.grounding import Counted, EvidenceTable, GroundingCase, choose_thresholds
from supportgraph.knowledge.embedding import HashEmbedder

pytestmark = pytest.mark.unit

ARTICLE = """# I was charged twice

Two charges on your statement are often one payment plus a pending card authorization.

## Steps
1. Check whether one of the two charges is marked "pending". It usually drops off within 3-5 business days.
2. In Kitebase, go to Settings > Billing > Invoices and look for two paid invoices for the same billing period.
3. If you found two paid invoices, go to Settings > Billing > Report a billing problem and select both invoices.

Duplicate charges are always refunded in full, within 5-10 business days after approval (Pro costs $15 a month).

## If that didn't help
Contact support through the chat at help.kitebase.example or write to billing@kitebase.example. Include the
workspace name and the last four digits of the card. Support will never ask for your password or your full card number.
"""


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return super().embed(texts)


@pytest.fixture
def check() -> GroundingCheck:
    # Thresholds for the hash embedder's bag-of-words cosine; the shipped ones are the real model's.
    return GroundingCheck(CountingEmbedder(), Thresholds(overlap_weight=0.5, score=0.6))


def reason(check: GroundingCheck, step: str, sources: list[str] | None = None) -> str:
    return check.verdicts([step], sources or [ARTICLE])[0].reason


def test_the_articles_own_text_is_accepted_without_an_embedding(check):
    steps = ["Support will never ask for your password or your full card number.",
             "In Kitebase, go to **Settings > Billing > Invoices** and look for two paid invoices"]
    assert [v.reason for v in check.verdicts(steps, [ARTICLE])] == ["verbatim", "verbatim"]
    assert check.embedder.texts == []


def test_a_paraphrase_that_says_what_the_article_says_is_accepted(check):
    verdict = check.verdicts(["Look in Settings > Billing > Invoices for two paid invoices for one billing period."],
                             [ARTICLE])[0]
    assert verdict.accepted and verdict.reason == "grounded"
    assert 0.5 * verdict.evidence.overlap + 0.5 * verdict.evidence.similarity >= 0.6


def test_a_step_about_something_else_is_unsupported(check):
    assert reason(check, "Reinstall the desktop app and clear its cache folder.") == "unsupported"


@pytest.mark.parametrize("step", [
    "Send support your password and your full card number through the chat.",
    "Reply with the 6-digit code we just texted you.",
    "Paste your API token here so we can check the charge.",
    "What is the CVV on the back of your card?",
    "Support will ask for your password to find the duplicate charge.",
])
def test_a_step_that_asks_for_a_secret_is_never_accepted_even_in_the_articles_words(check, step):
    assert reason(check, step, [ARTICLE + "\n" + step.replace("?", ".")]) == "secret"


@pytest.mark.parametrize("step, kind", [
    ("Email your invoice numbers to refunds@kitebase-billing.com.", "email"),
    ("Claim the refund at kitebase-refunds.net.", "host"),
    ("See https://help.kitebase.example/refunds/fast for the steps.", "url"),
    ("Call billing on +1 415 555 0100 to report the duplicate charge.", "phone"),
    ("Message @KitebaseRefunds about the duplicate charge.", "handle"),
])
def test_a_step_that_points_elsewhere_is_rejected(check, step, kind):
    verdict = check.verdicts([step], [ARTICLE])[0]
    assert verdict.reason == "elsewhere" and any(m.startswith(f"{kind}:") for m in verdict.evidence.missing)


@pytest.mark.parametrize("step, missing", [
    ("A pending charge usually drops off within 7 business days.", "number:7"),
    ("Duplicate charges are refunded in full; Pro costs $16 a month.", "amount:$16"),
    ("Go to Settings > Payments > Invoices and look for two paid invoices.", "menu:payments"),
])
def test_a_number_amount_or_menu_the_article_does_not_state_is_rejected(check, step, missing):
    verdict = check.verdicts([step], [ARTICLE])[0]
    assert verdict.reason == "fact" and missing in verdict.evidence.missing


def test_facts_written_differently_still_match():
    assert missing_facts("It drops off within 3 to 5 business days.", ARTICLE) == []
    assert missing_facts("Pro costs $15.00 a month; write to billing@kitebase.example.", ARTICLE) == []
    assert missing_facts("Open Settings → Billing → Invoices.", ARTICLE) == []
    assert missing_facts("It takes ten days.", "It takes 10 days.") == []
    assert missing_facts("It takes 10 days.", "It takes ten days.") == []
    assert missing_facts("Call +1 (415) 555-0100.", "Call 415-555-0100.") == []
    assert missing_facts("Updated on 2026-03-02 for claude-3-opus-20240229.",
                         "claude-3-opus-20240229, 2026-03-02") == []


@pytest.mark.parametrize("step", [
    "Support will never ask for your password or your full card number.",
    "Never share your recovery codes with anyone, including support.",
    "Go to Profile > Delete account, enter your password and click Delete account.",
    "Enter the 6-digit code from your authenticator app.",
    "Sign in with your email and password, choose Use a recovery code and enter an unused one.",
    "We send a verification code to your new address.",
    "Include the workspace name and the last four digits of your card number.",
    "Create a token in Profile > API tokens, give it a name and copy it.",
    "Check that the card number, expiry date and postal code match your bank's records.",
])
def test_mentioning_a_secret_is_not_asking_for_it(step):
    assert not asks_for_secret(step)


@pytest.mark.parametrize("step", [
    "Don't worry, just send us your password and we'll take it from there.",
    "Copy your recovery codes from Settings > Security and send them to us.",
    "Support needs your old password to restore the account.",
    "Email us your login details so we can look into it.",
    "Please confirm your full card number, expiry date and CVV in the chat.",
    "Never share it with others, but do tell me the verification code you received.",
])
def test_asking_for_a_secret_in_other_words_is_caught(step):
    assert asks_for_secret(step)


def test_only_addresses_count_as_pointing_elsewhere():
    assert points_elsewhere(["host:kitebase-refunds.net"]) and points_elsewhere(["phone:4155550100"])
    assert not points_elsewhere(["number:7", "menu:payments"])


def test_failing_steps_are_dropped_and_the_rest_kept_in_order(check):
    steps = ["Check whether one of the two charges is marked pending.",
             "Send support your password through the chat.",
             "Go to Settings > Billing > Invoices and look for two paid invoices for the same billing period.",
             "Reinstall the desktop app."]
    assert check.keep(steps, [ARTICLE]) == [steps[0], steps[2]]


def test_article_passages_are_embedded_once(check):
    check.verdicts(["Look for two paid invoices for one billing period in Settings > Billing > Invoices."], [ARTICLE])
    first = len(check.embedder.texts)
    check.verdicts(["Report the billing problem and select both paid invoices."], [ARTICLE])
    assert first > 5 and len(check.embedder.texts) == first + 1  # only the new step


def test_the_twins_rule_is_a_necessary_condition_of_the_check(check):
    """nodes.answer re-checks steps with twins.is_grounded: it must never drop one the check accepted."""
    steps = [s for s in split_sentences(ARTICLE)] + [
        "Look in Settings > Billing > Invoices for two paid invoices for one billing period.",
        "Report it in Settings > Billing > Report a billing problem and pick both invoices.",
        "Duplicate charges are always refunded in full, within 5-10 business days.",
        "Send us your password.", "Reinstall the desktop app.", "It drops off within 7 business days."]
    for verdict in check.verdicts(steps, [ARTICLE]):
        if verdict.accepted:
            assert twins.is_grounded(verdict.step, [ARTICLE]), verdict
    assert not twins.is_grounded("Send support your password and your full card number through the chat.", [ARTICLE])
    assert passes_text_rules("Check whether one of the two charges is marked pending.", [ARTICLE])


def test_sentences_keep_abbreviations_list_items_and_headings_apart():
    text = "# Title\n\nAdd the VAT ID (e.g. DE123456789) and click Save. Done!\n\n1. First step.\n2. Second\n   step."
    assert split_sentences(text) == ["Title", "Add the VAT ID (e.g. DE123456789) and click Save.", "Done!",
                                     "First step.", "Second step."]


def test_the_vectorised_decision_is_decide():
    rng = np.random.default_rng(0)
    evidences = [Evidence(secret=bool(rng.random() < 0.1), missing=("number:1",) if rng.random() < 0.1 else (),
                          verbatim=bool(rng.random() < 0.1), fragment=bool(rng.random() < 0.05),
                          overlap=float(rng.random()),
                          similarity=float(rng.random())) for _ in range(500)]
    cases = [GroundingCase("faithful", "x", ("a",), "c")] * len(evidences)
    for thresholds in (Thresholds(0.5, 0.6), Thresholds(0.8, 0.3), Thresholds(0.0, 0.9)):
        assert EvidenceTable(cases, evidences).accepted(thresholds).tolist() == [
            decide(e, thresholds)[0] for e in evidences]


def test_thresholds_are_chosen_for_the_worst_set_within_the_wrong_article_budget():
    loose, mid, strict = Thresholds(0.3, 0.5), Thresholds(0.5, 0.6), Thresholds(0.7, 0.8)

    def table(faithful: dict, wrong: dict) -> dict:
        return {t: {"faithful": Counted(faithful[t], 100), "random": Counted(wrong[t], 100)} for t in faithful}

    per_set = {"a": table({loose: 99, mid: 97, strict: 80}, {loose: 5, mid: 1, strict: 0}),
               "b": table({loose: 98, mid: 90, strict: 85}, {loose: 0, mid: 0, strict: 0})}
    assert choose_thresholds(per_set) == mid  # loose accepts 5% wrong on a; mid's worst faithful beats strict's
    assert choose_thresholds({"b": per_set["b"]}) == loose


def test_a_lone_word_number_or_heading_copied_from_the_article_is_not_a_step():
    article = "# Export\n\nFollow these steps to export your data.\n\n1. Open Settings.\n2. Sign out.\n3. Wait 2 days."
    check = GroundingCheck(HashEmbedder())
    verdicts = {v.step: v.reason for v in check.verdicts(["steps", "2", "Export", "Sign out.", "Open Settings."],
                                                        [article])}
    assert verdicts == {"steps": "fragment", "2": "fragment", "Export": "fragment", "Sign out.": "verbatim",
                        "Open Settings.": "verbatim"}
