"""Every page renders customer, model and article text without fetching from or linking to an outside
host, and without HTML: an image planted in an article or sent by a customer reaches the page as text."""

import pytest

from supportgraph.agents.service import SupportAgent
from supportgraph.config import Settings
from supportgraph.knowledge.index import build_index
from supportgraph.security import markup
from tests.ui.conftest import PASSWORD, app, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PLANTED = "\n\n![badge](https://tracker.example/badge.png) <img src=https://tracker.example/raw.gif> [guide](https://phish.example/2fa)\n"
MESSAGE = "my invoice ![x](https://tracker.example/c.png) <img src=https://tracker.example/m.gif> is wrong [/] $5 and $10"


def _rendered(at) -> list[str]:
    return [str(e.value) for e in [*at.markdown, *at.caption, *at.warning, *at.info, *at.success]] + \
        [str(e.label) for e in at.expander]


def _outside(texts: list[str]) -> list:
    """Links, images and HTML a browser would act on (a backslash-escaped "\\<" or "\\[" renders as text)."""
    texts = [t.replace("\\<", "&lt;").replace("\\[", "&#91;") for t in texts]
    return [(link.kind, link.url) for text in texts for link in markup.find_links(text)
            if link.kind in ("image", "link", "url", "definition") and not markup.allowed(markup.host_of(link.url),
                                                                                          ["kitebase.example"])] + \
        [tag for text in texts for tag in markup.html_tags(text)]


@pytest.fixture
def planted(workspace, real_embedder):
    """The 2FA article with an outside image, raw HTML and an outside link, re-indexed."""
    path = workspace / "faqs" / "faq-enable-2fa.md"
    path.write_text(path.read_text(encoding="utf-8") + PLANTED, encoding="utf-8")
    build_index(Settings(), real_embedder)
    return workspace


def test_the_chat_shows_a_planted_article_and_a_hostile_message_as_text(planted):
    at = app()
    at.chat_input[0].set_value("How do I turn on two-factor authentication?").run()
    at.chat_input[0].set_value(MESSAGE).run()
    assert not at.exception
    texts = _rendered(at)
    assert any("tracker.example" in t for t in texts)  # the planted article was shown, its image as text
    assert _outside(texts) == []


def test_the_transcripts_page_shows_a_customers_image_as_text(planted, real_embedder):
    agent = SupportAgent(Settings(), embedder=real_embedder)
    agent.ask(MESSAGE, channel="ui")
    agent.ask("How do I turn on two-factor authentication?", channel="ui")
    agent.close()
    at = sign_in(app(), "rick", PASSWORD)
    at.switch_page("views/transcripts.py").run()
    for conversation in at.selectbox(key="tr_conversation").options:
        at.selectbox(key="tr_conversation").select(conversation).run()
        assert not at.exception
        assert _outside(_rendered(at)) == []
    assert any("[/]" in t or "\\[/\\]" in t for t in _rendered(at) + [o for o in at.selectbox(key="tr_conversation").options])


def test_the_knowledge_page_says_why_a_passage_is_flagged(planted):
    at = sign_in(app(), "erin", PASSWORD)
    at.switch_page("views/knowledge.py").run()
    assert any("1 article with flagged passages" in str(w.value) for w in at.warning)
    at.selectbox[0].select("faq-enable-2fa").run()
    warnings = " ".join(str(w.value) for w in at.warning)
    assert "links to a host that is not on the brief's guard.allowed_hosts" in warnings
    assert "contains raw HTML" in warnings
    assert _outside(_rendered(at)) == []
