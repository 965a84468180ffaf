"""Versioned saves: every editor's change is recorded with its author and reason, can be diffed and reverted.

The Knowledge page, the API and the CLI save through :func:`versioned_save`, so each save lands in the
store's edit history (store/kb_edits.py) and in ``supportgraph changes --since``, whether or not anyone
commits the file. A revert is one more save: it writes back the text an article had before an edit and
is recorded as its own edit. Callers re-index after a save, as they did before; given the ``settings`` of
the index, a save is refused before anything is written when, with a Chroma server, another replica
published a change to that article that this folder does not have (knowledge/shared.py).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from supportgraph.config import Settings
from supportgraph.errors import KnowledgeError
from supportgraph.knowledge.articles import Article, load_articles
from supportgraph.knowledge.editing import atomic_write, check_article_text, find_article
from supportgraph.knowledge.shared import check_not_behind
from supportgraph.store.kb_edits import REASON_MAX, EditInfo, get_edit, list_edits, record_edit
from supportgraph.store.repository import Store


@dataclass
class SavedEdit:
    article: Article
    edit: EditInfo | None  # None: the text was already what the file says, so nothing was recorded


def check_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise KnowledgeError("The article was not saved: every save needs a reason.",
                             "say in a few words why, e.g. 'refund window is now 30 days'.")
    if len(reason) > REASON_MAX:
        raise KnowledgeError(f"The article was not saved: the reason is {len(reason)} characters long.",
                             f"keep it under {REASON_MAX}; the diff shows the details.")
    return reason


def versioned_save(knowledge_dir: Path, store: Store, text: str, *, author: str, reason: str,
                   relative_path: str | None = None, reverts: int | None = None,
                   settings: Settings | None = None) -> SavedEdit:
    """Validate, write and record one save; nothing is written or recorded when validation fails."""
    reason = check_reason(reason)
    article = check_article_text(knowledge_dir, text, relative_path)
    if settings is not None:
        current = next((a for a in load_articles(knowledge_dir).articles if a.id == article.id), None)
        check_not_behind(settings, article.id, current, article)
    path = knowledge_dir / article.path
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    if before == text:
        return SavedEdit(article, None)
    atomic_write(path, text)
    try:
        edit = record_edit(store, article_id=article.id, path=article.path, author=author, reason=reason,
                           before=before, after=text, reverts=reverts)
    except Exception:
        # An unrecorded change is what this module exists to prevent: put the file back.
        if before is None:
            path.unlink()
        else:
            atomic_write(path, before)
        raise
    return SavedEdit(article, edit)


def versioned_remove(knowledge_dir: Path, store: Store, article_id: str, *, author: str, reason: str,
                     reverts: int | None = None, settings: Settings | None = None) -> SavedEdit:
    """Delete an article's file and record it (``after`` None), so a revert can bring it back."""
    reason = check_reason(reason)
    article = find_article(knowledge_dir, article_id)
    if settings is not None:
        check_not_behind(settings, article.id, article, None)
    path = knowledge_dir / article.path
    before = path.read_text(encoding="utf-8")
    edit = record_edit(store, article_id=article.id, path=article.path, author=author, reason=reason,
                       before=before, after=None, reverts=reverts)
    path.unlink()
    return SavedEdit(article, edit)


def revert_edit(knowledge_dir: Path, store: Store, edit_id: int, *, author: str, note: str = "",
                settings: Settings | None = None) -> SavedEdit:
    """Put the article back as it was before edit ``edit_id`` (undoing it and any later edit): its earlier
    text written back, or the article removed when that edit created it. Recorded as a new edit whose
    reason names the one reverted."""
    edit = get_edit(store, edit_id)
    reason = f"revert #{edit_id} ({edit.reason})"
    if note.strip():
        reason = f"{reason}: {' '.join(note.split())}"
    if len(reason) > REASON_MAX:
        reason = reason[:REASON_MAX - 1] + "…"
    current = next((a for a in load_articles(knowledge_dir).articles if a.id == edit.article_id), None)
    if edit.before is None:  # the edit created the article
        if current is None:
            raise KnowledgeError(f"'{edit.article_id}' is already gone, as it was before edit #{edit_id}.",
                                 "nothing to revert.")
        return versioned_remove(knowledge_dir, store, edit.article_id, author=author, reason=reason,
                                reverts=edit_id, settings=settings)
    saved = versioned_save(knowledge_dir, store, edit.before, author=author, reason=reason,
                           relative_path=current.path if current else edit.path, reverts=edit_id, settings=settings)
    if saved.edit is None:
        raise KnowledgeError(f"'{edit.article_id}' already reads as it did before edit #{edit_id}.",
                             f"nothing to revert; see its history with `supportgraph kb edits {edit.article_id}`.")
    return saved


def text_diff(before: str | None, after: str | None, from_name: str, to_name: str) -> str:
    """A unified diff (difflib) between two versions of an article's file; empty when they are equal."""
    lines = difflib.unified_diff((before or "").splitlines(keepends=True), (after or "").splitlines(keepends=True),
                                 fromfile=from_name, tofile=to_name)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def edit_diff(edit: EditInfo) -> str:
    """What one edit changed."""
    return text_diff(edit.before, edit.after, "/dev/null" if edit.before is None else f"{edit.path} (before #{edit.id})",
                     "/dev/null" if edit.after is None else f"{edit.path} (#{edit.id}, {edit.author})")


def versions_diff(store: Store, from_id: int, to_id: int) -> str:
    """The text after edit ``from_id`` against the text after edit ``to_id`` (one article's two versions)."""
    old, new = get_edit(store, from_id), get_edit(store, to_id)
    if old.article_id != new.article_id:
        raise KnowledgeError(f"Edits #{from_id} and #{to_id} are of different articles ({old.article_id}, "
                             f"{new.article_id}).", "compare two edits of the same article.")
    return text_diff(old.after, new.after, f"{old.path} (#{old.id})", f"{new.path} (#{new.id})")


__all__ = ["SavedEdit", "check_reason", "edit_diff", "list_edits", "revert_edit", "text_diff", "versioned_remove",
           "versioned_save", "versions_diff"]
