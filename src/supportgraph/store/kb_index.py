"""The published knowledge index: what every replica serves when they share a Chroma server.

One row per Chroma collection, replaced by each `supportgraph index` that changes the KB version: the
manifest (KB version, article hashes, the confidence calibration fitted at index time) and the article
records the answers are written from. The vectors are in the Chroma server already; with this row a
replica can rebuild the rest of its index folder (BM25 files, articles.json, manifest.json) without a
copy of the knowledge folder that indexed them (knowledge/shared.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, mapped_column

from supportgraph.store.models import Base, UTCDateTime, utcnow
from supportgraph.store.repository import Store


class KbIndex(Base):
    __tablename__ = "kb_index"

    collection: Mapped[str] = mapped_column(String(200), primary_key=True)
    kb_version: Mapped[str] = mapped_column(String(32))
    previous: Mapped[str | None] = mapped_column(String(32))
    manifest: Mapped[dict] = mapped_column(JSON)
    articles: Mapped[dict] = mapped_column(JSON)  # article id -> Article.model_dump(mode="json")
    published_by: Mapped[str] = mapped_column(String(500))  # host:home of the replica that indexed it
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Published:
    kb_version: str
    previous: str | None
    manifest: dict
    articles: dict
    published_by: str
    published_at: dt.datetime

    def describe(self) -> str:
        return f"KB version {self.kb_version} (published by {self.published_by} at {self.published_at:%Y-%m-%d %H:%M} UTC)"


def published_version(store: Store, collection: str) -> str | None:
    """Only the version: what a replica asks every few seconds (one primary-key lookup)."""
    with store.session() as session:
        return session.scalar(select(KbIndex.kb_version).where(KbIndex.collection == collection))


def read_published(store: Store, collection: str) -> Published | None:
    with store.session() as session:
        row = session.get(KbIndex, collection)
        if row is None:
            return None
        return Published(row.kb_version, row.previous, row.manifest, row.articles, row.published_by, row.published_at)


def publish(store: Store, collection: str, manifest: dict, articles: dict, published_by: str) -> None:
    with store.session() as session, session.begin():
        row = session.get(KbIndex, collection, with_for_update=True)
        if row is None:
            row = KbIndex(collection=collection)
            session.add(row)
        elif row.kb_version != manifest["kb_version"]:
            row.previous = row.kb_version
        row.kb_version, row.manifest, row.articles = manifest["kb_version"], manifest, articles
        row.published_by, row.published_at = published_by, utcnow()
