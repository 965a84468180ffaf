"""The knowledge base's edit history: every save from the Knowledge page, the API or the CLI.

One row per save: who (a staff username or an API key's name), when, why (a short reason), which
article, and the whole file text before and after. Articles are staff-written content, not customer
text, so the texts are stored as they are. Rows are only ever added: a revert is a new edit whose
``after`` is an earlier ``before`` (``reverts`` names the edit it undid), so the history keeps
everything, including what a revert replaced. Diffs are derived from the texts when asked for.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from supportgraph.errors import NotFoundError
from supportgraph.store.models import Base, UTCDateTime, utcnow
from supportgraph.store.repository import Store

REASON_MAX = 200


class KbEdit(Base):
    __tablename__ = "kb_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    path: Mapped[str] = mapped_column(String(500))  # relative to the knowledge folder
    author: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    before: Mapped[str | None] = mapped_column(Text)  # None: the edit created the article
    after: Mapped[str | None] = mapped_column(Text)  # None: the edit removed the article
    reverts: Mapped[int | None] = mapped_column(Integer)  # the edit this one undid
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class EditInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    article_id: str
    path: str
    author: str
    reason: str
    before: str | None
    after: str | None
    reverts: int | None = None
    created_at: dt.datetime

    @property
    def kind(self) -> str:
        return "created" if self.before is None else "removed" if self.after is None else "edited"


def record_edit(store: Store, *, article_id: str, path: str, author: str, reason: str, before: str | None,
                after: str | None, reverts: int | None = None) -> EditInfo:
    with store.session() as session, session.begin():
        row = KbEdit(article_id=article_id, path=path, author=author, reason=reason, before=before, after=after,
                     reverts=reverts, created_at=utcnow())
        session.add(row)
        session.flush()
        return EditInfo.model_validate(row)


def get_edit(store: Store, edit_id: int) -> EditInfo:
    with store.session() as session:
        row = session.get(KbEdit, edit_id)
        if row is None:
            raise NotFoundError(f"No knowledge-base edit #{edit_id}.",
                                "list them with `supportgraph kb edits` (or an article's history on the Knowledge page).")
        return EditInfo.model_validate(row)


def list_edits(store: Store, article_id: str | None = None, since: dt.datetime | None = None,
               limit: int | None = None) -> list[EditInfo]:
    """Edits newest first, of one article or all, optionally only those since ``since``."""
    query = select(KbEdit).order_by(KbEdit.id.desc())
    if article_id is not None:
        query = query.where(KbEdit.article_id == article_id)
    if since is not None:
        query = query.where(KbEdit.created_at >= since)
    with store.session() as session:
        return [EditInfo.model_validate(r) for r in session.scalars(query.limit(limit))]
