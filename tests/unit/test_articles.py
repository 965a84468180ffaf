import textwrap

import pytest

from supportgraph.knowledge.articles import load_articles, numbered_items, parse_article
from supportgraph.knowledge.chunking import chunk_article
from tests.unit.conftest import write_kb

pytestmark = pytest.mark.unit


def test_front_matter_fields_are_read(tmp_path):
    result = load_articles(write_kb(tmp_path))
    by_id = {a.id: a for a in result.articles}
    assert not result.problems
    assert by_id["ts-sync"].requires == ["device"]
    assert by_id["internal-credits"].audience == "staff"
    assert by_id["ts-charged-twice"].tags == ["billing", "duplicate", "charge"]


def test_file_without_front_matter_gets_id_from_path_and_title_from_heading(tmp_path):
    (tmp_path / "billing").mkdir()
    (tmp_path / "billing" / "refunds.md").write_text("# Getting your money back\n\nAsk the owner.\n")
    (tmp_path / "README.md").write_text("# Not an article\n")
    result = load_articles(tmp_path)
    assert [(a.id, a.title) for a in result.articles] == [("billing/refunds", "Getting your money back")]


def test_malformed_articles_get_one_line_each_and_valid_ones_still_load(tmp_path):
    write_kb(tmp_path, {
        "good.md": "---\nid: good\ntitle: Good\n---\n# Good\n\nFine.\n",
        "bad-yaml.md": "---\nid: [unclosed\ntitle: x\n---\nBody\n",
        "empty.md": "---\nid: empty\ntitle: Empty\n---\n",
        "z-dup.md": "---\nid: good\ntitle: Copy\n---\nText\n",
        "wrong-type.md": "---\nid: wt\ntitle: T\ntype: blog\n---\nText\n",
        "unknown-field.md": "---\nid: uf\ntitle: T\nauthor: me\n---\nText\n",
    })
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["good"]
    lines = {p.path: str(p) for p in result.problems}
    assert set(lines) == {"bad-yaml.md", "empty.md", "z-dup.md", "wrong-type.md", "unknown-field.md"}
    assert "not valid YAML" in lines["bad-yaml.md"] and "Fix:" in lines["bad-yaml.md"]
    assert "no text" in lines["empty.md"]
    assert "duplicate id 'good'" in lines["z-dup.md"] and "good.md" in lines["z-dup.md"]
    assert "faq, policy, troubleshooting" in lines["wrong-type.md"]
    assert "author" in lines["unknown-field.md"]


def test_content_hash_changes_with_content_only():
    text = "---\nid: a\ntitle: A\n---\n# A\n\nOne.\n"
    first, moved = parse_article(text, "x/a.md"), parse_article(text, "y/a.md")
    edited = parse_article(text.replace("One.", "Two."), "x/a.md")
    assert first.content_hash == moved.content_hash != edited.content_hash


def test_sections_and_numbered_steps():
    article = parse_article(textwrap.dedent("""\
        ---
        id: a
        title: Fix it
        ---
        # Fix it

        Intro line.

        ## Steps
        1. First step
           continues here.
        2. Second step.

        ## If that didn't help
        Contact us.
        """), "a.md")
    headings = [s.heading for s in article.sections()]
    assert headings == ["Fix it", "Steps", "If that didn't help"]
    assert numbered_items(article.section("steps").text) == ["First step continues here.", "Second step."]


def test_chunks_follow_headings_and_fit_the_model_window():
    long_section = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(6))
    article = parse_article(f"---\nid: a\ntitle: Title\n---\n# Title\n\nIntro.\n\n## Long\n{long_section}\n", "a.md")
    chunks = chunk_article(article, max_words=150)
    assert chunks[0].section == "Title"
    assert all(len(c.text.split()) <= 150 for c in chunks)
    assert len([c for c in chunks if c.section == "Long"]) >= 3
    assert chunks[1].embed_text("Title").startswith("Title > Long\n")
