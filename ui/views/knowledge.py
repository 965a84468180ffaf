"""Staff page: search, read, create and edit help articles; saving re-indexes that article.

Editing is a form (the front-matter fields, the markdown body, a preview) and every save needs a reason:
it is kept in the KB history (knowledge/versions.py) with the signed-in editor as author, where each
edit's diff can be read and reverted."""

from __future__ import annotations

import streamlit as st
from support_ui import allowed_hosts, get_agent, label, markdown, show_error, staff_role

from supportgraph.errors import SupportGraphError
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.editing import (
    TYPE_FOLDERS,
    check_article_text,
    compose_article_text,
    new_article_text,
)
from supportgraph.knowledge.index import (
    build_index,
    kb_version,
    read_history,
    read_manifest,
)
from supportgraph.knowledge.retrieval import Filters
from supportgraph.knowledge.safety import FIX, WHY, article_problems, file_line
from supportgraph.knowledge.versions import edit_diff, list_edits, revert_edit, text_diff, versioned_save
from supportgraph.security.text import printable
from supportgraph.store.staff import can_open

if not can_open(staff_role(), "editor"):  # the navigation hides this page too; this is the second lock
    st.error("This page is for staff editors. Sign in from the sidebar.")
    st.stop()

agent = get_agent()
settings = agent.settings
author = st.session_state["staff"]["username"]


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
    """Run one versioned save; on success re-index (only the changed article is embedded) and say what changed."""
    try:
        saved = save()
        if saved.edit is None:
            st.info("Nothing changed, so nothing was saved.")
            return
        report = build_index(settings, agent.embedder)
    except SupportGraphError as error:
        show_error(error)
        return
    # The form, the reason and the history's choice start again from what is now saved (a revert changes the
    # file under the form: the old draft must not stay in it, ready to be saved back).
    for key in [k for k in st.session_state if str(k).startswith("kb_")]:
        del st.session_state[key]
    # Rerun so the header above shows the new version, and say so there.
    st.session_state["kb_saved"] = (saved.article.id, saved.edit.id, saved.edit.kind, report.kb_version,
                                    report.embedded_chunks)
    st.rerun()


def show_saved() -> None:
    if (saved := st.session_state.pop("kb_saved", None)) is None:
        return
    article_id, edit_id, kind, version, chunks = saved
    st.success(f"{kind.capitalize()} {label(article_id)} (edit #{edit_id} in the history). KB version is now "
               f"`{version}` ({chunks} chunks re-embedded).")
    article = next((a for a in loaded.articles if a.id == article_id), None)
    if article is not None:
        show_flags(article, (settings.knowledge_dir / article.path).read_text(encoding="utf-8"))


def split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def edit_form(article, file_text: str) -> None:
    """The article's front matter as fields, its body as markdown, a preview, and a required reason."""
    key = article.id
    with st.form(f"edit-{key}"):
        st.text_input("Id", article.id, disabled=True, key=f"kb_id:{key}",
                      help="An article keeps its id; create a new article to rename it.")
        title = st.text_input("Title", article.title, key=f"kb_title:{key}")
        left, middle, right = st.columns(3)
        kind = left.selectbox("Type", list(TYPE_FOLDERS), index=list(TYPE_FOLDERS).index(article.type),
                              key=f"kb_type:{key}")
        audience = middle.selectbox("Audience", ["customer", "staff"], index=["customer", "staff"].index(article.audience),
                                    key=f"kb_audience:{key}", help="staff: never shown to customers")
        area = right.text_input("Product area", article.product_area, key=f"kb_area:{key}")
        left, middle, right = st.columns(3)
        tags = left.text_input("Tags (comma-separated)", ", ".join(article.tags), key=f"kb_tags:{key}")
        requires = middle.text_input("Requires (details asked first, comma-separated)", ", ".join(article.requires),
                                     key=f"kb_requires:{key}")
        updated = right.date_input("Updated", article.updated, key=f"kb_updated:{key}")
        body = st.text_area("Body (markdown; troubleshooting articles need a `## Steps` numbered list)", article.body,
                            height=360, key=f"kb_body:{key}")
        reason = st.text_input("Reason for this change (required; kept in the history)", max_chars=200,
                               key=f"kb_reason:{key}", placeholder="e.g. refund window is now 30 days")
        left, right = st.columns(2)
        preview = left.form_submit_button("Preview", key=f"kb_preview:{key}")
        save = right.form_submit_button("Save and re-index", type="primary", key="save_article")
    fields = {"id": article.id, "title": title.strip(), "type": kind, "product_area": area.strip() or "general",
              "tags": split(tags), "updated": updated, "requires": split(requires), "audience": audience}
    text = compose_article_text(file_text, article, fields, body)
    if preview:
        try:
            draft = check_article_text(settings.knowledge_dir, text, article.path)
        except SupportGraphError as error:
            show_error(error)
            return
        st.subheader("Preview")
        show_flags(draft, text)
        with st.container(border=True):
            markdown(draft.body)
        st.caption("What saving would change in the file:")
        st.code(text_diff(file_text, text, article.path, f"{article.path} (this draft)") or "(no change)",
                language="diff")
    if save:
        save_and_reindex(lambda: versioned_save(settings.knowledge_dir, agent.store, text, author=author,
                                                reason=reason, relative_path=article.path, settings=settings))


def show_history(edits, key: str) -> None:
    """Saved edits with author, reason and time; the chosen one's diff, and a button that reverts it."""
    if not edits:
        st.caption("No saved edits yet: changes made here, through the API or with `supportgraph kb edit` appear here.")
        return
    st.dataframe([{"#": e.id, "when (UTC)": f"{e.created_at:%Y-%m-%d %H:%M}", "author": e.author,
                   "article": e.article_id, "change": e.kind, "reason": e.reason} for e in edits],
                 hide_index=True, width="stretch")
    by_id = {e.id: e for e in edits}
    chosen = st.selectbox("Edit", list(by_id), key=f"kb_pick:{key}",
                          format_func=lambda i: printable(f"#{i} · {by_id[i].author} · {by_id[i].reason}"))
    edit = by_id[chosen]
    st.code(edit_diff(edit) or "(no difference)", language="diff")
    note = st.text_input("Why revert (optional; added to the recorded reason)", key=f"kb_revert_note:{key}")
    if st.button(f"Revert #{edit.id}: put {edit.article_id} back as it was before it", key=f"kb_revert:{key}"):
        save_and_reindex(lambda: revert_edit(settings.knowledge_dir, agent.store, edit.id, author=author, note=note,
                                             settings=settings))


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

search, edit, create, recent = st.tabs(["Search", "View and edit", "New article", "History"])
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
                    "`unmarked_audience`). Set the audience to customer below once it is reviewed.")
        show_flags(article, file_text)
        edit_form(article, file_text)
        st.subheader("History")
        show_history(list_edits(agent.store, article.id, limit=50), article.id)

with create:
    with st.form("new-article"):
        article_id = st.text_input("Id", placeholder="billing-annual-refunds")
        title = st.text_input("Title", placeholder="What a customer would search for")
        kind = st.selectbox("Type", list(TYPE_FOLDERS))
        area = st.text_input("Product area", value="general")
        tags = st.text_input("Tags (comma-separated)")
        body = st.text_area("Body (markdown; troubleshooting articles need a `## Steps` numbered list)", height=240)
        reason = st.text_input("Reason (kept in the history)", value="new article", max_chars=200)
        if st.form_submit_button("Create and index", type="primary"):
            save_and_reindex(lambda: versioned_save(
                settings.knowledge_dir, agent.store, new_article_text(
                    id=article_id.strip(), title=title.strip(), type=kind, body=body,
                    product_area=area.strip() or "general", tags=split(tags)), author=author, reason=reason,
                settings=settings))

with recent:
    st.caption("Every saved edit of the knowledge base, newest first (also in `supportgraph changes --since 7d`). "
               "Reverting an edit that removed an article brings it back.")
    show_history(list_edits(agent.store, limit=100), "all")
