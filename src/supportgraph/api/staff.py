"""Staff endpoints: edit an article (kept in the KB history), diff and revert edits, re-index, webhook
deliveries; and the assistant list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from supportgraph.api.auth import Principal, principal, staff
from supportgraph.api.errors import ApiError
from supportgraph.api.models import ArticleBody, Assistant, EditDiff, EditOut, IndexOut, RevertBody
from supportgraph.api.threads import ERRORS
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.editing import check_article_text
from supportgraph.knowledge.index import build_index
from supportgraph.knowledge.versions import edit_diff, list_edits, revert_edit, versioned_save
from supportgraph.store.kb_edits import EditInfo, get_edit
from supportgraph.store.webhooks import DeliveryInfo, list_deliveries

router = APIRouter(responses=ERRORS)


def _reindex(request: Request, article_id: str | None = None, edit: EditInfo | None = None) -> IndexOut:
    agent = request.app.state.agent
    report = build_index(agent.settings, agent.embedder)
    return IndexOut(article_id=article_id, edit_id=edit.id if edit else None, kb_version=report.kb_version,
                    embedded_chunks=report.embedded_chunks, articles=report.articles,
                    kept_published=report.kept_published)


def _edit_out(edit: EditInfo) -> dict:
    return edit.model_dump(exclude={"before", "after"}) | {"kind": edit.kind}


@router.put("/knowledge/articles/{article_id}", response_model=IndexOut, tags=["knowledge"],
            summary="Create or replace an article with a reason (kept in the KB history), then re-index")
def put_article(request: Request, article_id: str, body: ArticleBody, caller: Principal = Depends(staff)) -> IndexOut:
    agent = request.app.state.agent
    knowledge = agent.settings.knowledge_dir
    existing = next((a for a in load_articles(knowledge).articles if a.id == article_id), None)
    path = existing.path if existing else None
    if (article := check_article_text(knowledge, body.text, path)).id != article_id:  # before anything is written
        raise ApiError(422, "id_mismatch", f"The article's front matter says id '{article.id}', the URL '{article_id}'.",
                       "make the two the same.")
    saved = versioned_save(knowledge, agent.store, body.text, author=caller.key.name, reason=body.reason,
                           relative_path=path, settings=agent.settings)
    return _reindex(request, article.id, saved.edit)


@router.get("/knowledge/edits", response_model=list[EditOut], tags=["knowledge"],
            summary="The KB history: saved edits newest first, of one article or all")
def edits(request: Request, article_id: str | None = None, limit: int = Query(50, ge=1, le=500),
          caller: Principal = Depends(staff)) -> list[dict]:
    return [_edit_out(e) for e in list_edits(request.app.state.agent.store, article_id, limit=limit)]


@router.get("/knowledge/edits/{edit_id}", response_model=EditDiff, tags=["knowledge"],
            summary="One saved edit and its unified diff")
def edit_with_diff(request: Request, edit_id: int, caller: Principal = Depends(staff)) -> dict:
    edit = get_edit(request.app.state.agent.store, edit_id)
    return _edit_out(edit) | {"diff": edit_diff(edit)}


@router.post("/knowledge/edits/{edit_id}/revert", response_model=IndexOut, tags=["knowledge"],
             summary="Put the article back as it was before this edit (a new edit), then re-index")
def revert(request: Request, edit_id: int, body: RevertBody | None = None,
           caller: Principal = Depends(staff)) -> IndexOut:
    agent = request.app.state.agent
    saved = revert_edit(agent.settings.knowledge_dir, agent.store, edit_id, author=caller.key.name,
                        note=body.reason if body else "", settings=agent.settings)
    return _reindex(request, saved.article.id, saved.edit)


@router.post("/knowledge/index", response_model=IndexOut, tags=["knowledge"],
             summary="Re-index the knowledge folder (after editing files directly)")
def reindex(request: Request, caller: Principal = Depends(staff)) -> IndexOut:
    return _reindex(request)


@router.get("/webhooks/deliveries", response_model=list[DeliveryInfo], tags=["webhooks"],
            summary="Webhook deliveries of your tenant, newest first")
def deliveries(request: Request, thread_id: str | None = None, caller: Principal = Depends(staff)) -> list[DeliveryInfo]:
    return list_deliveries(request.app.state.agent.store, caller.tenant, thread_id)


@router.post("/assistants/search", response_model=list[Assistant], tags=["assistants"],
             summary="The assistants this server runs (one: support)")
def assistants(caller: Principal = Depends(principal)) -> list[Assistant]:
    return [Assistant()]


@router.get("/assistants/{assistant_id}", response_model=Assistant, tags=["assistants"])
def assistant(assistant_id: str, caller: Principal = Depends(principal)) -> Assistant:
    if assistant_id != Assistant().assistant_id:
        raise ApiError(404, "not_found", f"Assistant '{assistant_id}' does not exist.", "use assistant_id 'support'.")
    return Assistant()
