"""Help articles: markdown files with optional YAML front matter.

A file with front matter declares its id, title, type and so on; a file
without it still loads (id = path without extension, title = first heading), so
a team can drop in its own help centre. Problems are collected, one per file,
each naming the file and the fix; valid articles still load.

Who may read an article that does not say (``audience``) is the operator's choice, in
``defaults.yaml`` beside the articles (:class:`ArticleDefaults`): ``audience`` for front matter
without the field, ``unmarked_audience`` for a file with no front matter at all, which nobody
has reviewed yet. Both default to staff-safe values where the file is missing: an unmarked file
is staff-only until an editor gives it front matter with ``audience: customer``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import frontmatter
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from supportgraph.errors import FileProblem

ArticleType = Literal["faq", "policy", "troubleshooting"]
Audience = Literal["customer", "staff"]
ARTICLE_SUFFIXES = {".md", ".markdown"}
DEFAULTS_FILE = "defaults.yaml"  # in the knowledge folder: the operator's defaults for what articles leave out
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9/_-]*$")
FOLDER_TYPES = {"faqs": "faq", "faq": "faq", "policies": "policy", "policy": "policy",
                "troubleshooting": "troubleshooting"}
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
NUMBERED_ITEM = re.compile(r"^\s*\d+[.)]\s+(.+)$")


class Section(BaseModel):
    heading: str
    level: int
    text: str


class Article(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    type: ArticleType = "faq"
    product_area: str = "general"
    tags: list[str] = Field(default_factory=list)
    updated: dt.date | None = None
    requires: list[str] = Field(default_factory=list)
    audience: Audience = "customer"
    path: str = Field(description="Path relative to the knowledge folder.")
    body: str = Field(description="Markdown without the front matter.")

    @field_validator("id")
    @classmethod
    def _id_format(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("use lowercase letters, digits, '-', '_' or '/' (e.g. billing-refunds)")
        return value

    @property
    def content_hash(self) -> str:
        """Changes exactly when what the agent can say from this article changes."""
        return hashlib.sha256(self.model_dump_json(exclude={"path"}).encode()).hexdigest()[:16]

    def sections(self) -> list[Section]:
        """Split the body at markdown headings; text before the first one belongs to the title."""
        sections = [Section(heading=self.title, level=1, text="")]
        lines: list[str] = []
        for line in self.body.splitlines():
            match = HEADING.match(line)
            if match:
                sections[-1].text = "\n".join(lines).strip()
                lines = []
                level, heading = len(match.group(1)), match.group(2)
                if level == 1 and not sections[-1].text and len(sections) == 1:
                    sections[0].heading = heading  # the article's own title line
                    continue
                sections.append(Section(heading=heading, level=level, text=""))
            else:
                lines.append(line)
        sections[-1].text = "\n".join(lines).strip()
        return [s for s in sections if s.text]

    def section(self, heading: str) -> Section | None:
        wanted = heading.strip().lower()
        return next((s for s in self.sections() if s.heading.strip().lower() == wanted), None)


def numbered_items(text: str) -> list[str]:
    """The items of the numbered lists in ``text``, continuation lines joined."""
    items: list[str] = []
    in_item = False
    for line in text.splitlines():
        match = NUMBERED_ITEM.match(line)
        if match:
            items.append(match.group(1).strip())
            in_item = True
        elif in_item and line.startswith((" ", "\t")) and line.strip():
            items[-1] += " " + line.strip()
        else:
            in_item = False
    return items


ArticleProblem = FileProblem  # a malformed article file


class ArticleDefaults(BaseModel):
    """What an article that leaves a field out gets (``knowledge/defaults.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    audience: Audience = Field(default="customer", description="front matter without an `audience:` line")
    unmarked_audience: Audience = Field(default="staff", description=(
        "a file without front matter (dropped in, not yet reviewed): staff keeps it from customers until an "
        "editor adds front matter with `audience: customer`"))


def read_defaults(knowledge_dir: Path) -> tuple[ArticleDefaults, ArticleProblem | None]:
    """The folder's defaults, or the built-in ones and the problem when the file is malformed."""
    path = knowledge_dir / DEFAULTS_FILE
    if not path.is_file():
        return ArticleDefaults(), None
    try:
        return ArticleDefaults(**(yaml.safe_load(path.read_text(encoding="utf-8")) or {})), None
    except (yaml.YAMLError, ValidationError, TypeError) as error:
        first = error.errors()[0]["msg"] if isinstance(error, ValidationError) else "not a YAML mapping"
        return ArticleDefaults(), ArticleProblem(
            DEFAULTS_FILE, f"is invalid ({first}); the built-in defaults apply (unmarked files are staff-only).",
            "write `audience: customer|staff` and `unmarked_audience: customer|staff`, nothing else.")


@dataclass
class LoadResult:
    articles: list[Article]
    problems: list[ArticleProblem]


def article_files(knowledge_dir: Path) -> list[Path]:
    return sorted(
        p for p in knowledge_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and p.name.lower() != "readme.md"
        and not any(part.startswith(".") for part in p.relative_to(knowledge_dir).parts)
    )


def load_articles(knowledge_dir: Path) -> LoadResult:
    """Load every article under ``knowledge_dir``; collect one problem per bad file."""
    articles: list[Article] = []
    defaults, problem = read_defaults(knowledge_dir)
    problems: list[ArticleProblem] = [problem] if problem else []
    seen: dict[str, str] = {}
    for path in article_files(knowledge_dir):
        relative = path.relative_to(knowledge_dir).as_posix()
        try:
            article = parse_article(path.read_text(encoding="utf-8"), relative, defaults)
        except ArticleParseError as error:
            problems.append(ArticleProblem(relative, error.message, error.fix))
            continue
        except UnicodeDecodeError:
            problems.append(ArticleProblem(relative, "is not UTF-8 text.", "save the file as UTF-8."))
            continue
        if article.id in seen:
            problems.append(ArticleProblem(
                relative, f"duplicate id '{article.id}' (already used by {seen[article.id]}).",
                "give one of the two articles a different `id` in its front matter."))
            continue
        seen[article.id] = relative
        articles.append(article)
    return LoadResult(articles, problems)


class ArticleParseError(Exception):
    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def parse_article(text: str, relative_path: str, defaults: ArticleDefaults | None = None) -> Article:
    """Build an Article from one file's text; raise ArticleParseError naming the fix.

    ``defaults`` (the folder's ``defaults.yaml``) fill in an audience the file does not give."""
    defaults = defaults or ArticleDefaults()
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark else ""
        raise ArticleParseError(
            f"front matter is not valid YAML{where}.",
            "check the block between the two `---` lines: `key: value` pairs, lists as [a, b], "
            "quote values that contain a colon.") from None
    meta = dict(post.metadata)
    meta.setdefault("audience", defaults.audience if meta else defaults.unmarked_audience)
    body = post.content.strip()
    if not body:
        raise ArticleParseError("has no text after the front matter.",
                                "write the article body, or delete the file.")
    stem = relative_path.rsplit(".", 1)[0]
    meta.setdefault("id", stem.lower().replace(" ", "-"))
    meta.setdefault("title", _first_heading(body) or Path(stem).name.replace("-", " ").capitalize())
    folder = relative_path.split("/", 1)[0] if "/" in relative_path else ""
    meta.setdefault("type", FOLDER_TYPES.get(folder, "faq"))
    for key in ("tags", "requires"):  # accept "a, b" and numbers (tags: [api, 429])
        if isinstance(meta.get(key), str):
            meta[key] = meta[key].split(",")
        if isinstance(meta.get(key), list):
            meta[key] = [str(t).strip() for t in meta[key] if str(t).strip()]
    try:
        return Article(**meta, path=relative_path, body=body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "front matter"
        if first["type"] == "extra_forbidden":
            raise ArticleParseError(f"unknown front-matter field '{field}'.",
                                    f"remove it, or use one of: {', '.join(ARTICLE_FIELDS)}.") from None
        raise ArticleParseError(f"front-matter field '{field}' is invalid: {first['msg']}.",
                                _FIELD_FIXES.get(field, "see knowledge/README.md for the format.")) from None


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        match = HEADING.match(line)
        if match:
            return match.group(2)
    return None


ARTICLE_FIELDS = [f for f in Article.model_fields if f not in ("path", "body")]
_FIELD_FIXES = {
    "type": "use one of: faq, policy, troubleshooting.",
    "audience": "use one of: customer, staff.",
    "updated": "write the date as YYYY-MM-DD.",
    "id": "use lowercase letters, digits and dashes, e.g. billing-refunds.",
    "title": "give the article a `title:` or a `# Heading` line.",
}
