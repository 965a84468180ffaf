"""How the twins compose an answer from an article's own sentences: leads that stand alone, policies
cited only beside answers they bear on."""

import pytest

from supportgraph.agents.nodes import _related_policy
from supportgraph.agents.twins import answer_from_article, more_from_article, prose_sentences
from supportgraph.knowledge.articles import parse_article

pytestmark = pytest.mark.unit

EXPORT = """---
id: faq-export
title: Export your data
type: faq
product_area: data
---
# Export your data

Exports include every project in the workspace.

## Exporting again
An export that failed can be started again. After that, start a new export from Settings > Export data.
The download link expires after 7 days.

## Steps
1. Go to Settings > Export data.
2. Click **Start export**.
"""

NO_STEPS = """---
id: faq-limits
title: Upload limits
type: faq
product_area: data
---
# Upload limits

Files up to 2 GB can be uploaded. After that, the upload stops with an error. Large videos are best
shared as links.
"""


def test_a_lead_sentence_that_points_back_comes_with_the_one_before_it():
    article = parse_article(EXPORT, "faqs/faq-export.md")
    lead, steps = answer_from_article(article, {}, {}, "Exporting again",
                                      "An export that failed can be started again. After that, start a new export "
                                      "from Settings > Export data.", "how do I start a new export?")
    assert lead.startswith("An export that failed can be started again. After that, start a new export")
    assert steps == ["Go to Settings > Export data.", "Click **Start export**."]


def test_an_answer_from_prose_never_opens_with_a_sentence_that_points_back():
    article = parse_article(NO_STEPS, "faqs/faq-limits.md")
    _, sentences = answer_from_article(article, {}, {}, "Upload limits",
                                       "After that, the upload stops with an error. Large videos are best shared "
                                       "as links.", "my upload stops")
    assert sentences[0] == "Large videos are best shared as links."
    # Seven words answer nothing alone: the article's sentences on the question follow, the one that
    # points back after the one it points to.
    assert sentences[1:] == ["Files up to 2 GB can be uploaded.", "After that, the upload stops with an error."]


THIN = """---
id: va-veap
title: Veterans Educational Assistance Program
---
## What benefits can I get?
Money for tuition

## Who can get them?
You can get these benefits if you entered service between 1977 and 1985. You pay into your account and
the government matches it two to one to help cover the cost of college.

## Contact
Call our Education Call Center with any questions.
"""


def test_a_passage_that_is_a_headings_worth_is_followed_by_the_articles_sentences_on_the_question():
    article = parse_article(THIN, "va-veap.md")  # found chatting on a public-services help centre
    _, sentences = answer_from_article(article, {}, {}, "What benefits can I get?", "Money for tuition",
                                       "I'm a veteran, can I get help paying for college?")
    assert sentences[0] == "Money for tuition"
    assert "the government matches it two to one to help cover the cost of college." in sentences[2]
    assert "Call our Education Call Center with any questions." not in sentences


RUN_TOGETHER = """---
id: dmv-renew
title: Renew a registration
---
## Renew by mail
surrender your old plates at an office before you renew.
You can renew by mail up to 60 days before the registration expires. Mail the renewal notice with your payment.
Find an office near you [6 ]
Return to Publications
- Keep your receipt
"""


def test_a_page_s_run_together_titles_and_cut_off_starts_are_not_answer_steps():
    # Exported pages run link titles into the text and chunks can start mid-sentence (seen on a
    # government help centre); a customer should get the complete sentences and the list item.
    article = parse_article(RUN_TOGETHER, "dmv-renew.md")
    passage = article.sections()[0].text
    _, sentences = answer_from_article(article, {}, {}, "Renew by mail", passage, "Can I renew by mail?")
    assert sentences == ["You can renew by mail up to 60 days before the registration expires.",
                         "Mail the renewal notice with your payment.",
                         "Keep your receipt"]
    # A list exported without its markers is still a list: the lines after a colon are its items.
    unmarked = "Some drivers need a road test first. These drivers include:\nDrivers with a suspended license\nNew residents over 70"
    assert prose_sentences(unmarked + "\nFind an office near you") == [
        "Some drivers need a road test first.", "These drivers include:", "Drivers with a suspended license",
        "New residents over 70", "Find an office near you"]
    assert prose_sentences(unmarked + ".\nFind an office near you")[-1] == "New residents over 70."


def test_a_passage_that_is_only_a_list_item_s_tail_gives_way_to_the_article_s_closest_sentences():
    # Seen on a public-health FAQ: the chunk that matched was one item of a list ("...in the following
    # groups: ...;"), and the answer read "1. patients with acute respiratory infections ...".
    article = parse_article("---\nid: treatment\ntitle: Is there a treatment?\n---\nThere is no specific "
                            "treatment for this disease, so providers treat the symptoms. Testing depends on the "
                            "stage of the outbreak.\nTesting is prioritised for these groups: hospital patients;\n"
                            "patients with acute respiratory infections in certain outpatient clinics;\n",
                            "treatment.md")
    tail = "patients with acute respiratory infections in certain outpatient clinics;"
    _, sentences = answer_from_article(article, {}, {}, "", tail, "How are patients treated?")
    assert sentences[0] == "There is no specific treatment for this disease, so providers treat the symptoms."
    assert tail not in sentences


def _article(kind: str, area: str):
    return parse_article(f"---\nid: {kind}-{area}\ntitle: A {kind}\ntype: {kind}\nproduct_area: {area}\n---\n"
                         f"# A {kind}\n\nSome text here.\n", f"{kind}s/{kind}-{area}.md")


@pytest.mark.parametrize("policy_area, top_area, policy_dense, cited", [
    ("billing", "billing", 0.60, True),
    ("billing", "apps", 0.60, False),      # a failed-payment policy says nothing about a sync fix
    ("general", "apps", 0.60, True),       # a knowledge base without product areas keeps citing
    ("billing", "billing", 0.50, False),   # too far from the question
])
def test_a_policy_is_cited_beside_an_answer_of_its_own_product_area(policy_area, top_area, policy_dense, cited):
    assert _related_policy(_article("policy", policy_area), _article("troubleshooting", top_area),
                           policy_dense, 0.62) is cited


def test_an_abbreviation_does_not_cut_a_sentence_in_two():
    text = "Mail the form to the U.S. Postal Service by 5 p.m. on Friday. Use Form No. 7 (e.g. for refunds).\n" \
           "Can it be sent twice? No. Send it once. A N.Y. License is valid in D.C. too."
    assert prose_sentences(text) == ["Mail the form to the U.S. Postal Service by 5 p.m. on Friday.",
                                     "Use Form No. 7 (e.g. for refunds).", "Can it be sent twice?", "Send it once.",
                                     "A N.Y. License is valid in D.C. too."]


def test_a_sentence_repeated_with_a_heading_run_into_it_or_spaced_differently_is_kept_once():
    # Found in answers on a scraped documentation set: "4. Claude decides to use a tool Claude assesses if any tools
    # can help ..." and "5. The API response has a stop_reason of tool_use , signaling ..." repeated steps 1 and 3.
    text = ("2Claude decides to use a tool\nClaude assesses if any tools can help with the query.\n"
            "The API response has a stop_reason of tool_use, signaling intent.\n"
            "Claude decides to use a tool Claude assesses if any tools can help with the query.\n"
            "The API response has a stop_reason of tool_use , signaling intent.\n"
            "If you are an admin, Open the billing page and pay the invoice.\nOpen the billing page and pay the invoice.")
    assert prose_sentences(text) == ["Claude assesses if any tools can help with the query.",
                                     "The API response has a stop_reason of tool_use, signaling intent.",
                                     "If you are an admin, Open the billing page and pay the invoice.",
                                     "Open the billing page and pay the invoice."]


LONE_NUMBER = """---
id: choose-model
title: 1. Choose the right model
type: faq
product_area: api
---
1. Choose the right model

One of the most straightforward ways to reduce latency is to select the appropriate model for your use case.
Consider your requirements and choose the model that best fits your needs in terms of speed and quality.
"""


def test_one_numbered_line_is_a_heading_not_a_list_of_steps():
    # Found in anthropic-docs' answers: the whole reply was "1. Choose the right model".
    article = parse_article(LONE_NUMBER, "faqs/choose-model.md")
    lead, steps = answer_from_article(article, {}, {}, "1. Choose the right model",
                                      "One of the most straightforward ways to reduce latency is to select the "
                                      "appropriate model for your use case.", "how does the model choice reduce latency?")
    assert lead == ""
    assert steps[0].startswith("One of the most straightforward ways to reduce latency")
    assert "Choose the right model" not in steps
    # Given the page's first lines as the passage, the repeated title is left out too.
    _, steps = answer_from_article(article, {}, {}, "1. Choose the right model", article.body[:200],
                                   "how does the model choice reduce latency?")
    assert steps[0].startswith("One of the most straightforward ways to reduce latency")


def test_a_sentence_repeated_with_more_after_it_is_offered_once():
    text = ("Claude supports JPEG, PNG, GIF, and WebP image formats, specifically:\n"
            "Claude supports JPEG, PNG, GIF, and WebP image formats, specifically: image/jpeg image/png.")
    assert prose_sentences(text) == ["Claude supports JPEG, PNG, GIF, and WebP image formats, specifically: "
                                     "image/jpeg image/png."]


FAQ_PAGE = """---
id: mustard-gas
title: Mustard gas exposure
type: faq
product_area: benefits
---
# Mustard gas exposure

If you have questions about benefits related to mustard gas exposure, you can contact us by email.
Can I get benefits if I volunteered for research involving chemical testing?
As many as 60,000 Veterans volunteered for medical research. If you were involved in this research, you can
get medical care through the U.S. Army.
"""


def test_a_question_inside_a_page_is_not_offered_as_an_answer_the_sentences_after_it_are():
    article = parse_article(FAQ_PAGE, "faqs/mustard-gas.md")
    passage = article.sections()[0].text
    _, sentences = answer_from_article(article, {}, {}, "Mustard gas exposure", passage,
                                       "Am I able to get benefits if I volunteered for chemical testing?")
    assert not any(s.endswith("?") for s in sentences)
    assert "As many as 60,000 Veterans volunteered for medical research." in sentences


def test_the_article_sentences_that_complete_a_short_passage_are_statements_not_questions():
    article = parse_article(FAQ_PAGE, "faqs/mustard-gas.md")
    _, sentences = answer_from_article(article, {}, {}, "Mustard gas exposure", "Mustard gas research volunteers.",
                                       "Can I get benefits if I volunteered for research?")
    assert sentences and not any(s.endswith("?") for s in sentences)
    assert "As many as 60,000 Veterans volunteered for medical research." in sentences


def test_a_second_question_on_the_same_article_gets_the_sentences_about_it():
    article = parse_article(EXPORT, "faq-export.md")
    shown = ["Exports include every project in the workspace.", "Go to Settings > Export data.", "Click **Start export**."]
    assert more_from_article(article, "how long does the download link last?", shown) == [
        "The download link expires after 7 days."]
    # Nothing new to say (the reply holds it), and nothing shared but "can" / "we": no block.
    assert more_from_article(article, "do exports include every project?", shown) == []
    assert more_from_article(article, "can we?", shown) == []
