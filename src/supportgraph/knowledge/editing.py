"""Create, edit and remove articles as files, validated before anything is written.

A save that fails validation writes nothing, so an editor's mistake never
replaces a good article. Writes are atomic (temp file, then rename).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import frontmatter

from supportgraph.errors import KnowledgeError, NotFoundError
from supportgraph.knowledge.articles import (
    Article,
    ArticleParseError,
    load_articles,
    parse_article,
)

TYPE_FOLDERS = {"faq": "faqs", "policy": "policies", "troubleshooting": "troubleshooting"}


def render_article(article: Article) -> str:
    """The file text for an article: front matter, then the markdown body."""
    meta = article.model_dump(mode="json", exclude={"path", "body"}, exclude_defaults=True)
    meta = {"id": article.id, "title": article.title, "type": article.type} | meta
    return frontmatter.dumps(frontmatter.Post(article.body, **meta), sort_keys=False) + "\n"


def find_article(knowledge_dir: Path, article_id: str) -> Article:
    article = next((a for a in load_articles(knowledge_dir).articles if a.id == article_id), None)
    if article is None:
        raise NotFoundError(f"No article with id '{article_id}' in {knowledge_dir}.",
                            "list them with `supportgraph kb stats` or search with `supportgraph kb search`.")
    return article


def save_article_text(knowledge_dir: Path, text: str, relative_path: str | None = None) -> Article:
    """Validate ``text`` and write it; a new article goes to its type's folder as <id>.md."""
    try:
        article = parse_article(text, relative_path or "new.md")
    except ArticleParseError as error:
        raise KnowledgeError(f"The article was not saved: it {error.message}", error.fix) from None
    if relative_path is None:
        relative_path = f"{TYPE_FOLDERS[article.type]}/{article.id}.md"
        article = parse_article(text, relative_path)
    clash = next((a for a in load_articles(knowledge_dir).articles
                  if a.id == article.id and a.path != relative_path), None)
    if clash:
        raise KnowledgeError(f"The article was not saved: id '{article.id}' is already used by {clash.path}.",
                             "choose another id, or edit that article instead.")
    _atomic_write(knowledge_dir / relative_path, text)
    return article


def new_article(knowledge_dir: Path, *, id: str, title: str, type: str, body: str, product_area: str = "general",
                tags: list[str] | None = None) -> Article:
    body = body.strip()
    if not body.lstrip().startswith("#"):
        body = f"# {title}\n\n{body}"
    draft = Article(id=id, title=title, type=type, product_area=product_area, tags=tags or [],
                    updated=dt.date.today(), path="new.md", body=body)
    return save_article_text(knowledge_dir, render_article(draft))


def remove_article(knowledge_dir: Path, article_id: str) -> Article:
    article = find_article(knowledge_dir, article_id)
    (knowledge_dir / article.path).unlink()
    return article


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
