"""Staff endpoints: edit an article and re-index, re-index, webhook deliveries; and the assistant list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from supportgraph.api.auth import Principal, principal, staff
from supportgraph.api.errors import ApiError
from supportgraph.api.models import ArticleBody, Assistant, IndexOut
from supportgraph.api.threads import ERRORS
from supportgraph.knowledge.articles import load_articles
from supportgraph.knowledge.editing import save_article_text
from supportgraph.knowledge.index import build_index
from supportgraph.store.webhooks import DeliveryInfo, list_deliveries

router = APIRouter(responses=ERRORS)


def _reindex(request: Request, article_id: str | None = None) -> IndexOut:
    agent = request.app.state.agent
    report = build_index(agent.settings, agent.embedder)
    return IndexOut(article_id=article_id, kb_version=report.kb_version, embedded_chunks=report.embedded_chunks,
                    articles=report.articles)


@router.put("/knowledge/articles/{article_id}", response_model=IndexOut, tags=["knowledge"],
            summary="Create or replace an article, then re-index (only changed articles are embedded)")
def put_article(request: Request, article_id: str, body: ArticleBody, caller: Principal = Depends(staff)) -> IndexOut:
    knowledge = request.app.state.agent.settings.knowledge_dir
    existing = next((a for a in load_articles(knowledge).articles if a.id == article_id), None)
    article = save_article_text(knowledge, body.text, existing.path if existing else None)
    if article.id != article_id:
        raise ApiError(422, "id_mismatch", f"The article's front matter says id '{article.id}', the URL '{article_id}'.",
                       "make the two the same.")
    return _reindex(request, article.id)


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
