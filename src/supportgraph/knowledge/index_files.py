"""The index folder's own files, beside the vectors: manifest.json, articles.json, history.jsonl and the
BM25 folder of the current KB version.

Written by `supportgraph index` from the knowledge folder, and by a replica following an index another
replica published (knowledge/shared.py), the same way: BM25 first (a new folder per version), then the
article records, then the manifest that names them, each write-then-rename, so a reader sees the old
index or the new one and a killed writer leaves the old one in place.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from supportgraph.knowledge.articles import Article
from supportgraph.knowledge.chunking import Chunk
from supportgraph.knowledge.lexical import LEXICAL_FORMAT, LexicalDoc, LexicalIndex


def lexical_dir_name(kb_version: str, max_words: int) -> str:
    return f"lexical-{kb_version}-{max_words}-v{LEXICAL_FORMAT}"


def changes(old_manifest: dict, articles: list[Article]) -> dict[str, list[str]]:
    """Articles added, updated and removed since ``old_manifest``."""
    old = {aid: entry["hash"] for aid, entry in old_manifest.get("articles", {}).items()}
    return {"added": [a.id for a in articles if a.id not in old],
            "updated": [a.id for a in articles if a.id in old and old[a.id] != a.content_hash],
            "removed": sorted(set(old) - {a.id for a in articles})}


def write_index_files(index_dir: Path, articles: list[Article], chunks: list[Chunk], manifest: dict,
                      old_manifest: dict, note: dict | None = None) -> None:
    """Make ``manifest`` (which names its ``lexical_dir``) the index folder's current version; ``note`` is
    added to its history entry (who published a followed version)."""
    lexical_dir = index_dir / manifest["lexical_dir"]
    if not lexical_dir.exists():
        titles = {a.id: a.title for a in articles}
        LexicalIndex.build([LexicalDoc(c.id, c.article_id, c.section, c.text) for c in chunks], titles).save(lexical_dir)
    write_json(index_dir / "articles.json", {a.id: a.model_dump(mode="json") for a in articles})
    write_json(index_dir / "manifest.json", manifest)
    if manifest["kb_version"] != old_manifest.get("kb_version"):
        with open(index_dir / "history.jsonl", "a") as history:
            history.write(json.dumps({"kb_version": manifest["kb_version"], "previous": old_manifest.get("kb_version"),
                                      "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                      **changes(old_manifest, articles), **(note or {})}) + "\n")
    for old in index_dir.glob("lexical-*"):
        if old.name != lexical_dir.name:
            shutil.rmtree(old, ignore_errors=True)


def read_history(index_dir: Path) -> list[dict]:
    """Every KB version this index has had, oldest first, with what changed."""
    path = index_dir / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def read_manifest(index_dir: Path) -> dict:
    path = index_dir / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def write_manifest(index_dir: Path, manifest: dict) -> None:
    write_json(index_dir / "manifest.json", manifest)


def write_json(path: Path, data: dict) -> None:
    """Write-then-rename, so a reader or a killed writer never sees half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
