"""Staff page: search, read, create and edit help articles; saving re-indexes that article."""

from __future__ import annotations

import streamlit as st
from support_ui import allowed_hosts, get_agent, label, markdown, show_error, staff_role

from supportgraph.errors import SupportGraphError
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.editing import TYPE_FOLDERS, new_article, save_article_text
from supportgraph.knowledge.index import (
    build_index,
    kb_version,
    read_history,
    read_manifest,
)
from supportgraph.knowledge.retrieval import Filters
from supportgraph.knowledge.safety import FIX, WHY, article_problems, file_line
from supportgraph.store.staff import can_open

if not can_open(staff_role(), "editor"):  # the navigation hides this page too; this is the second lock
    st.error("This page is for staff editors. Sign in from the sidebar.")
    st.stop()

agent = get_agent()
settings = agent.settings


def show_flags(article, text: str) -> None:
    """Why passages of this article are never copied into an answer (knowledge/safety.py), line by line."""
    problems = article_problems(article.body, allowed_hosts())
    if not problems:
        return
    lines = [f"- line {file_line(text, article.body, p.line)}: {WHY[p.kind]} ({label(p.detail)}): "
             f"\"{label(p.text)}\" Fix: {FIX[p.kind]}." for p in problems]
    st.warning(f"{len(problems)} flagged passage{'s' * (len(problems) > 1)}: never copied into an answer, and turns "
               "that retrieve this article are flagged for review.\n\n" + "\n".join(lines))


def save_and_reindex(save) -> None:
    """Run one save; on success re-index (only the changed article is embedded) and say what changed."""
    try:
        article = save()
        report = build_index(settings, agent.embedder)
    except SupportGraphError as error:
        show_error(error)
        return
    # Rerun so the header above shows the new version, and say so there.
    st.session_state["kb_saved"] = (article.id, report.kb_version, report.embedded_chunks)
    st.rerun()


def show_saved() -> None:
    if (saved := st.session_state.pop("kb_saved", None)) is None:
        return
    article_id, version, chunks = saved
    st.success(f"Saved {label(article_id)}. KB version is now `{version}` ({chunks} chunks re-embedded).")
    article = next((a for a in loaded.articles if a.id == article_id), None)
    if article is not None:
        show_flags(article, (settings.knowledge_dir / article.path).read_text(encoding="utf-8"))


def ids(names: list[str], most: int = 8) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


st.title("Knowledge base")
manifest = read_manifest(settings.index_dir)
loaded = load_articles(settings.knowledge_dir)
on_disk = kb_version({a.id: a.content_hash for a in loaded.articles})
history = read_history(settings.index_dir)
left, right = st.columns(2)
left.metric("KB version (indexed)", manifest.get("kb_version", "not built"))
right.metric("Articles", len(loaded.articles))
if manifest and manifest["kb_version"] != on_disk:
    st.warning("Files changed since the last index; saving here or `supportgraph index` updates it.")
if history:
    last = history[-1]
    if last.get("previous"):
        changes = [f"{kind}: {ids(last[kind])}" for kind in ("added", "updated", "removed") if last[kind]]
        st.caption(f"What changed in `{last['kb_version']}` (since `{last['previous']}`, built {last['built_at']}): "
                   + ("; ".join(changes) or "nothing"))
    else:  # the first index: everything was added, and there is no earlier version to compare with
        st.caption(f"`{last['kb_version']}` is the first indexed version ({len(last['added'])} articles, built "
                   f"{last['built_at']}).")
show_saved()
for problem in loaded.problems:
    st.warning(label(str(problem)))
flagged = {a.id: n for a in loaded.articles if (n := len(article_problems(a.body, allowed_hosts())))}
if flagged:
    st.warning(f"{len(flagged)} article{'s' * (len(flagged) > 1)} with flagged passages (never copied into answers): "
               + ", ".join(f"{label(i)} ({n})" for i, n in flagged.items()) + ". Open one below to see why.")

search, edit, create = st.tabs(["Search", "View and edit", "New article"])
with search:
    query = st.text_input("Search the knowledge base", placeholder="e.g. refund for annual plan")
    types = st.multiselect("Type", list(TYPE_FOLDERS))
    areas = st.multiselect("Product area", sorted({a.product_area for a in loaded.articles}))
    if query:
        hits = agent.retriever.search(query, k=10, filters=Filters(audience="staff", types=tuple(types),
                                                                   product_areas=tuple(areas)))
        st.dataframe([{"id": h.article.id, "title": h.article.title, "type": h.article.type,
                       "audience": h.article.audience, "score": round(h.score, 3)} for h in hits],
                     hide_index=True, width="stretch")

with edit:
    by_id = {a.id: a for a in loaded.articles}
    chosen = st.selectbox("Article", sorted(by_id), index=None, placeholder="Choose an article")
    if chosen:
        article = by_id[chosen]
        path = settings.knowledge_dir / article.path
        file_text = path.read_text(encoding="utf-8")
        st.caption(f"{label(article.path)} · {article.type} · {label(article.product_area)} · audience: {article.audience}")
        if not file_text.lstrip().startswith("---"):
            st.info(f"This file has no front matter, so its audience is **{article.audience}** (knowledge/defaults.yaml, "
                    "`unmarked_audience`). Add front matter with `audience: customer` once it is reviewed.")
        show_flags(article, file_text)
        with st.expander("Preview", expanded=False):
            markdown(article.body)
        text = st.text_area("File (front matter + markdown)", file_text, height=420, key=f"edit-{chosen}")
        if st.button("Save and re-index", type="primary", key="save_article"):
            save_and_reindex(lambda: save_article_text(settings.knowledge_dir, text, article.path))

with create:
    with st.form("new-article"):
        article_id = st.text_input("Id", placeholder="billing-annual-refunds")
        title = st.text_input("Title", placeholder="What a customer would search for")
        kind = st.selectbox("Type", list(TYPE_FOLDERS))
        area = st.text_input("Product area", value="general")
        tags = st.text_input("Tags (comma-separated)")
        body = st.text_area("Body (markdown; troubleshooting articles need a `## Steps` numbered list)", height=240)
        if st.form_submit_button("Create and index", type="primary"):
            save_and_reindex(lambda: new_article(settings.knowledge_dir, id=article_id.strip(), title=title.strip(),
                                                 type=kind, body=body, product_area=area.strip() or "general",
                                                 tags=[t.strip() for t in tags.split(",") if t.strip()]))
