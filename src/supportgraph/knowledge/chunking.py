"""Heading-aware chunks sized for the embedding model's window.

all-MiniLM-L6-v2 reads 256 word pieces; ~150 words leaves room for the title
and section path that are prepended to every chunk's embedded text.
"""

from __future__ import annotations

from dataclasses import dataclass

from supportgraph.knowledge.articles import Article


@dataclass(frozen=True)
class Chunk:
    id: str
    article_id: str
    section: str
    text: str

    def embed_text(self, title: str) -> str:
        """What gets embedded: the article title and section give the passage its topic."""
        prefix = title if self.section == title else f"{title} > {self.section}"
        return f"{prefix}\n{self.text}"


# What the titles channel embeds per article; a new format re-embeds every article's entries on the next index.
TITLES_FORMAT = 2  # 2: "Title: Heading" for each section heading beside the title (1: the title alone)


def title_texts(article: Article) -> list[str]:
    """What an article says it answers: its title, then "Title: Heading" for each section. A long page
    answers a question in one section, whose heading states it better than the page's title does."""
    return [article.title] + [f"{article.title}: {section.heading}" for section in article.sections()[1:]
                              if section.heading.strip()]


def chunk_article(article: Article, max_words: int = 150) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in article.sections():
        for piece in _split(section.text, max_words):
            chunks.append(Chunk(f"{article.id}#{len(chunks)}", article.id, section.heading, piece))
    return chunks


def _split(text: str, max_words: int) -> list[str]:
    """Split at blank lines (then lines) so no piece exceeds ``max_words`` where avoidable."""
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for block in _blocks(text, max_words):
        words = len(block.split())
        if current and count + words > max_words:
            pieces.append("\n".join(current))
            current, count = [], 0
        current.append(block)
        count += words
    if current:
        pieces.append("\n".join(current))
    return pieces


def _blocks(text: str, max_words: int) -> list[str]:
    blocks: list[str] = []
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph.split()) <= max_words:
            blocks.append(paragraph)
        else:
            blocks.extend(line for line in paragraph.splitlines() if line.strip())
    return blocks
