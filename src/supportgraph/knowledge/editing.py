"""Create, edit and remove articles as files, validated before anything is written.

A save that fails validation writes nothing, so an editor's mistake never
replaces a good article. Writes are atomic (temp file, then rename).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import frontmatter
from pydantic import ValidationError

from supportgraph.errors import KnowledgeError, NotFoundError
from supportgraph.knowledge.articles import (
    ARTICLE_FIELDS,
    Article,
    ArticleParseError,
    load_articles,
    parse_article,
    read_defaults,
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


def check_article_text(knowledge_dir: Path, text: str, relative_path: str | None = None) -> Article:
    """The article ``text`` would be saved as (at ``relative_path``, or its type's folder as <id>.md
    when new); KnowledgeError naming the fix when it would not be saved. Writes nothing."""
    defaults, _ = read_defaults(knowledge_dir)
    try:
        article = parse_article(text, relative_path or "new.md", defaults)
    except ArticleParseError as error:
        raise KnowledgeError(f"The article was not saved: it {error.message}", error.fix) from None
    if relative_path is None:
        article = parse_article(text, f"{TYPE_FOLDERS[article.type]}/{article.id}.md", defaults)
    clash = next((a for a in load_articles(knowledge_dir).articles
                  if a.id == article.id and a.path != article.path), None)
    if clash:
        raise KnowledgeError(f"The article was not saved: id '{article.id}' is already used by {clash.path}.",
                             "choose another id, or edit that article instead.")
    return article


def save_article_text(knowledge_dir: Path, text: str, relative_path: str | None = None) -> Article:
    """Validate ``text`` and write it; a new article goes to its type's folder as <id>.md."""
    article = check_article_text(knowledge_dir, text, relative_path)
    atomic_write(knowledge_dir / article.path, text)
    return article


FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n.*?^---[ \t]*(\r?\n|\Z)", re.S | re.M)


def article_fields(article: Article) -> dict:
    """What the Knowledge page's form edits: every front-matter field of the article model."""
    return {name: getattr(article, name) for name in ARTICLE_FIELDS}


def compose_article_text(current_text: str, current: Article, fields: dict, body: str) -> str:
    """The file text for a form save: the front matter from ``fields``, then ``body``.

    When the fields are what the file already says, its front matter is kept byte for byte (or left
    out, for a file that has none), so the edit's diff shows only the body lines that changed."""
    body = body.strip() + "\n"
    if fields == article_fields(current):
        match = FRONT_MATTER.match(current_text)
        if match is None:
            return body
        rest = current_text[match.end():]
        return current_text[:match.end()] + rest[:len(rest) - len(rest.lstrip())] + body
    meta = {name: value for name, value in fields.items() if value not in (None, [], "")}
    meta["audience"] = fields["audience"]  # always written: a default here could differ from defaults.yaml
    if isinstance(meta.get("updated"), dt.date):
        meta["updated"] = meta["updated"].isoformat()
    return frontmatter.dumps(frontmatter.Post(body, **meta), sort_keys=False) + "\n"


def new_article_text(*, id: str, title: str, type: str, body: str, product_area: str = "general",
                     tags: list[str] | None = None) -> str:
    """The file text of a new article (a `# Title` line added when the body has no heading first)."""
    body = body.strip()
    if not body.lstrip().startswith("#"):
        body = f"# {title}\n\n{body}"
    try:
        draft = Article(id=id, title=title, type=type, product_area=product_area, tags=tags or [],
                        updated=dt.date.today(), path="new.md", body=body)
    except ValidationError as error:
        first = error.errors()[0]
        raise KnowledgeError(f"The article was not saved: its {first['loc'][0]} is invalid ({first['msg']}).",
                             "use a lowercase id with letters, digits and dashes, and one of the listed types.") \
            from None
    return render_article(draft)


def new_article(knowledge_dir: Path, *, id: str, title: str, type: str, body: str, product_area: str = "general",
                tags: list[str] | None = None) -> Article:
    return save_article_text(knowledge_dir, new_article_text(id=id, title=title, type=type, body=body,
                                                             product_area=product_area, tags=tags))


def remove_article(knowledge_dir: Path, article_id: str) -> Article:
    article = find_article(knowledge_dir, article_id)
    (knowledge_dir / article.path).unlink()
    return article


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
