"""`supportgraph kb`: inspect and edit the knowledge base."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from supportgraph.cli.common import (
    ProjectOption,
    agent_for,
    console,
    err,
    friendly_errors,
    reindex,
    report_flagged,
    safe,
    settings_for,
    unmarked_articles,
)

app = typer.Typer(help="Inspect and edit the knowledge base.", no_args_is_help=True)



@app.command("validate")
@friendly_errors
def kb_validate(project: ProjectOption = None,
                strict: Annotated[bool, typer.Option("--strict", help="Also exit 1 when a passage is flagged.")]
                = False) -> None:
    """Check every article's front matter and body, and flag passages that must never reach a customer
    (instructions to the assistant, secret requests, outside links, HTML). Exit 1 if any article is malformed."""
    from supportgraph.knowledge.articles import load_articles

    settings = settings_for(project)
    result = load_articles(settings.knowledge_dir)
    for problem in result.problems:
        err.print(f"[red]✗[/] {safe(str(problem))}")
    flagged = report_flagged(settings, result.articles, detailed=True)
    unmarked = unmarked_articles(settings, result.articles)
    for article in unmarked:
        err.print(f"[cyan]i[/] {safe(article.path)}: no front matter, so audience {article.audience} (knowledge/"
                  "defaults.yaml unmarked_audience). Fix: add front matter with `audience: customer` once reviewed.")
    console.print(f"{len(result.articles)} valid articles, {len(result.problems)} with problems, "
                  f"{len(flagged)} with flagged passages, {len(unmarked)} without front matter.")
    if result.problems or (strict and flagged):
        raise typer.Exit(1)


NoIndexOption = Annotated[bool, typer.Option("--no-index", help="Only write the file; index later.")]
AuthorOption = Annotated[Optional[str], typer.Option(
    "--as", help="Who is editing, for the KB history; default: your login name.")]
ReasonOption = Annotated[str, typer.Option(help="Why, in a few words (kept in the KB history).")]


def _author(name: str | None) -> str:
    import getpass

    return (name or getpass.getuser()).strip()


def _store(settings):
    from supportgraph.store import Store

    return Store(settings.database_url)


def _saved(settings, saved, no_index: bool) -> None:
    if saved.edit is None:
        console.print("No change.")
        return
    console.print(f"Saved {safe(saved.article.path)} as edit #{saved.edit.id} by {safe(saved.edit.author)}: "
                  f"{safe(saved.edit.reason)}")
    if not no_index:
        reindex(settings, quiet=True)


@app.command("add")
@friendly_errors
def kb_add(article_id: Annotated[str, typer.Option("--id", help="Unique id, e.g. billing-refunds.")],
           title: Annotated[str, typer.Option(help="What a customer would search for.")],
           type: Annotated[str, typer.Option(help="faq | policy | troubleshooting")] = "faq",
           area: Annotated[str, typer.Option(help="Product area, e.g. billing.")] = "general",
           tags: Annotated[str, typer.Option(help="Comma-separated tags.")] = "",
           body_file: Annotated[Optional[Path], typer.Option(help="Markdown body; default: open $EDITOR.")] = None,
           reason: Annotated[str, typer.Option(help="Why (kept in the KB history).")] = "new article",
           author: AuthorOption = None, no_index: NoIndexOption = False, project: ProjectOption = None) -> None:
    """Create an article (validated before it is written, recorded in the KB history) and index it."""
    from supportgraph.knowledge.editing import new_article_text
    from supportgraph.knowledge.versions import versioned_save

    settings = settings_for(project)
    body = body_file.read_text(encoding="utf-8") if body_file else typer.edit(f"# {title}\n\n") or ""
    text = new_article_text(id=article_id, title=title, type=type, body=body, product_area=area,
                            tags=[t.strip() for t in tags.split(",") if t.strip()])
    saved = versioned_save(settings.knowledge_dir, _store(settings), text, author=_author(author), reason=reason,
                           settings=settings)
    console.print(f"Created {settings.knowledge_dir.name}/{safe(saved.article.path)}")
    _saved(settings, saved, no_index)


@app.command("edit")
@friendly_errors
def kb_edit(article_id: str, reason: ReasonOption, from_file: Annotated[Optional[Path], typer.Option(
                "--from-file", help="Replace the whole file (front matter + body); default: open $EDITOR.")] = None,
            author: AuthorOption = None, no_index: NoIndexOption = False, project: ProjectOption = None) -> None:
    """Edit an article; an edit that does not validate is not saved. Each save is kept in the KB history."""
    from supportgraph.knowledge.editing import find_article
    from supportgraph.knowledge.versions import check_reason, versioned_save

    settings = settings_for(project)
    check_reason(reason)  # before the editor opens, not after the work is done
    article = find_article(settings.knowledge_dir, article_id)
    current = (settings.knowledge_dir / article.path).read_text(encoding="utf-8")
    text = from_file.read_text(encoding="utf-8") if from_file else typer.edit(current, extension=".md")
    if text is None:
        console.print("No change.")
        return
    _saved(settings, versioned_save(settings.knowledge_dir, _store(settings), text, author=_author(author),
                                    reason=reason, relative_path=article.path, settings=settings), no_index)


@app.command("remove")
@friendly_errors
def kb_remove(article_id: str, reason: ReasonOption, author: AuthorOption = None, no_index: NoIndexOption = False,
              project: ProjectOption = None) -> None:
    """Delete an article's file and drop it from the index (kept in the KB history: `kb revert` brings it back)."""
    from supportgraph.knowledge.versions import versioned_remove

    settings = settings_for(project)
    saved = versioned_remove(settings.knowledge_dir, _store(settings), article_id, author=_author(author),
                             reason=reason, settings=settings)
    console.print(f"Removed {safe(saved.article.path)} (edit #{saved.edit.id})")
    if not no_index:
        reindex(settings, quiet=True)


@app.command("edits")
@friendly_errors
def kb_edits(article_id: Annotated[Optional[str], typer.Argument(help="Only this article's edits.")] = None,
             since: Annotated[Optional[str], typer.Option(help="7d, 2w, 12h or a date.")] = None,
             limit: Annotated[int, typer.Option("-n", help="How many edits.")] = 20,
             project: ProjectOption = None) -> None:
    """Saved edits, newest first: id, when, who, what and why (see one with `kb diff ID`)."""
    from supportgraph.changes import window_start
    from supportgraph.knowledge.versions import list_edits

    settings = settings_for(project)
    start = window_start(settings.project_dir, since) if since else None
    edits = list_edits(_store(settings), article_id, since=start, limit=limit)
    for e in edits:
        console.print(f"[bold]#{e.id}[/] {e.created_at:%Y-%m-%d %H:%M} UTC  {safe(e.author)} {e.kind} "
                      f"[bold]{safe(e.article_id)}[/]: {safe(e.reason)}")
    if not edits:
        console.print("No edits recorded" + (f" for {safe(article_id)}." if article_id else "."))


@app.command("diff")
@friendly_errors
def kb_diff(edit_id: int, to: Annotated[Optional[int], typer.Option(
                "--to", help="Compare the version after EDIT_ID with the one after this edit instead.")] = None,
            project: ProjectOption = None) -> None:
    """What one edit changed, as a unified diff (or two versions of an article against each other)."""
    from supportgraph.knowledge.versions import edit_diff, versions_diff
    from supportgraph.security.text import printable
    from supportgraph.store.kb_edits import get_edit

    store = _store(settings_for(project))
    diff = versions_diff(store, edit_id, to) if to is not None else edit_diff(get_edit(store, edit_id))
    sys.stdout.write(printable(diff) if diff else "No difference.\n")  # plain text: a diff is not Rich markup


@app.command("revert")
@friendly_errors
def kb_revert(edit_id: int, note: Annotated[str, typer.Option(
                  "--reason", help="Why (added to 'revert #N (its reason)').")] = "",
              author: AuthorOption = None, no_index: NoIndexOption = False, project: ProjectOption = None) -> None:
    """Put an article back as it was before edit EDIT_ID (a new edit in the history), and re-index."""
    from supportgraph.knowledge.versions import revert_edit

    settings = settings_for(project)
    _saved(settings, revert_edit(settings.knowledge_dir, _store(settings), edit_id, author=_author(author), note=note,
                                 settings=settings), no_index)


@app.command("import")
@friendly_errors
def kb_import(source: Annotated[Path, typer.Argument(help="A .csv/.jsonl of question/answer pairs, or a folder of .md/.html/.txt.")],
              type: Annotated[str, typer.Option(help="faq | policy | troubleshooting")] = "faq",
              area: Annotated[str, typer.Option(help="Product area for the imported articles.")] = "general",
              no_index: NoIndexOption = False, project: ProjectOption = None) -> None:
    """Import a help-centre export (Zendesk/Intercom-style CSV or JSONL, or a folder) into knowledge/."""
    from supportgraph.knowledge.importers import import_path

    settings = settings_for(project)
    report = import_path(source, settings.knowledge_dir, type=type, product_area=area)
    for problem in report.problems:
        err.print(f"[yellow]skipped[/] {safe(str(problem))}")
    console.print(f"Imported {len(report.created)} articles, skipped {len(report.problems)}.")
    if report.created and not no_index:
        reindex(settings, quiet=True)


@app.command("stats")
@friendly_errors
def kb_stats(project: ProjectOption = None) -> None:
    """Articles by type and area, the index's KB version, and whether it is up to date."""
    from collections import Counter

    from rich.table import Table

    from supportgraph.knowledge.articles import load_articles
    from supportgraph.knowledge.index import kb_version, read_manifest

    settings = settings_for(project)
    loaded = load_articles(settings.knowledge_dir)
    manifest = read_manifest(settings.index_dir)
    table = Table("type", "product area", "articles")
    for (kind, area), count in sorted(Counter((a.type, a.product_area) for a in loaded.articles).items()):
        table.add_row(safe(kind), safe(area), str(count))
    console.print(table)
    on_disk = kb_version({a.id: a.content_hash for a in loaded.articles})
    console.print(f"{len(loaded.articles)} articles ({sum(a.audience == 'staff' for a in loaded.articles)} staff-only), "
                  f"{len(loaded.problems)} with problems.")
    if not manifest:
        console.print("Index: not built. Run `supportgraph index`.")
        return
    fresh = "up to date" if manifest["kb_version"] == on_disk else "[yellow]stale: run `supportgraph index`[/]"
    console.print(f"Index: KB version {manifest['kb_version']}, built {manifest['built_at']}, "
                  f"{len(manifest['articles'])} articles, {fresh}.")


@app.command("history")
@friendly_errors
def kb_history(limit: Annotated[int, typer.Option("-n", help="How many versions.")] = 10,
               project: ProjectOption = None) -> None:
    """The index's KB versions, newest first, with the articles each one added, changed or removed."""
    from supportgraph.knowledge.index import read_history

    for entry in reversed(read_history(settings_for(project).index_dir)[-limit:]):
        changes = ", ".join(f"{kind} {', '.join(entry[kind])}" for kind in ("added", "updated", "removed") if entry[kind])
        console.print(f"[bold]{entry['kb_version']}[/] {entry['built_at']}  {safe(changes) or 'no content change'}")


@app.command("search")
@friendly_errors
def kb_search(query: str, k: Annotated[int, typer.Option("-k", help="How many articles.")] = 5,
              type: Annotated[Optional[list[str]], typer.Option("--type", help="Only this type (repeatable).")] = None,
              area: Annotated[Optional[list[str]], typer.Option("--area", help="Only this product area.")] = None,
              tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Any of these tags.")] = None,
              mode: Annotated[Optional[str], typer.Option(help="hybrid | dense | lexical")] = None,
              staff: Annotated[bool, typer.Option("--staff", help="Include staff-only articles.")] = False,
              as_json: Annotated[bool, typer.Option("--json")] = False, project: ProjectOption = None) -> None:
    """Show the articles the agent would retrieve for a query, with scores and confidence."""
    from supportgraph.knowledge.retrieval import Filters

    agent = agent_for(settings_for(project))
    filters = Filters(audience="staff" if staff else "customer", types=tuple(type or ()),
                      product_areas=tuple(area or ()), tags=tuple(tag or ()))
    hits = agent.retriever.search(query, k=k, filters=filters, mode=mode)
    rows = [{"id": h.article.id, "title": h.article.title, "score": round(h.score, 4), "dense": h.dense_score,
             "title_cosine": h.title_score, "lexical": h.lexical_score, "phrase": h.phrase_score} for h in hits]
    if as_json:
        sys.stdout.write(json.dumps({"confidence": agent.retriever.confidence(hits), "hits": rows}, indent=2) + "\n")
        return
    console.print(f"confidence {agent.retriever.confidence(hits):.2f}")
    for row in rows:
        console.print(f"{row['score']:.3f}  [bold]{safe(row['id'])}[/]  {safe(row['title'])}  "
                      f"[dim](cosine {row['dense']:.2f}, title {row['title_cosine']:.2f}, bm25 {row['lexical']:.1f}, "
                      f"phrase {row['phrase']:.1f})[/]")


@app.command("calibrate")
@friendly_errors
def kb_calibrate(dataset: Annotated[Optional[Path], typer.Option(
                     help="Your labelled questions (JSONL, evals/README.md format, unanswerable ones included). "
                          "Without it, the confidence is fitted on the knowledge base itself.")] = None,
                 write: Annotated[bool, typer.Option("--write/--dry-run", help="Save the result.")] = True,
                 project: ProjectOption = None) -> None:
    """Fit the retrieval confidence (P(best article answers the question)) for this help centre."""
    from supportgraph.evals.datasets import load_dataset
    from supportgraph.knowledge.calibration import (
        fit_calibration,
        save_self_calibration,
        self_calibrate,
        write_calibration,
    )

    settings = settings_for(project)
    retriever = agent_for(settings).retriever
    if dataset is None:
        fitted = self_calibrate(retriever)
        if fitted is None:
            console.print("Too few articles to fit on the knowledge base itself: params.yaml's confidence applies.")
            return
        calibration, questions = fitted
        console.print(f"Fitted on {questions} questions from this knowledge base's titles and headings "
                      f"(their articles held out): intercept {calibration.intercept}.")
        if write:
            save_self_calibration(settings, calibration, questions)
            console.print("Saved in the index manifest (used until the articles change).")
        return
    cases = load_dataset(settings.project_dir / dataset if not dataset.is_absolute() else dataset)
    calibration, accuracy = fit_calibration(retriever, cases)
    console.print(f"Fitted on {len(cases)} labelled questions, accuracy at p=0.5: {accuracy:.3f}")
    console.print(calibration.model_dump())
    if write:
        write_calibration(settings.project_dir / "params.yaml", calibration)
        console.print("Saved to params.yaml (retrieval.confidence, source: labelled): it now wins over the "
                      "knowledge base's own.")