"""Convert doc2dial (v1.0.1, validation split) into the benchmark layout.

Source: github.com/doc2dial/sharedtask-dialdoc2021, commit a4483c53420f6d776b9c02ebe212d0e1c9e938ff,
data/doc2dial/v1.0.1/doc2dial_rc_val.csv.zip (the reading-comprehension form of the validation
dialogues: each row holds a dialogue prefix, the full text of its grounding document and the grounding
span). Documents are pages of four US public-service sites: ssa.gov, va.gov, studentaid.gov and the
New York DMV. Licence: the repository ships no LICENSE file and the dataset card names none; the
dataset is published for research at doc2dial.github.io (IBM Research).

Articles: one per document that a validation dialogue is grounded in. The text is the document's own
`doc_text`; the only change is that a block's first line, when it reads as a section title (short, no
closing punctuation, text follows), becomes a `##` heading, since the plain text keeps the page's
section breaks as lines. Questions: the first user turn of every dialogue (a customer opening a
conversation, in their own words; later turns depend on the dialogue), the grounding span as the
reference answer. Unanswerable: the documents of about 10% of the articles (chosen by a hash of the
document id) are left out of the corpus and their opening questions kept with `sources: []`; the
corpus may still hold a related page, so these are "no page written for this" rather than
"nothing related", and carry `unanswerable_reason` so they can be told apart.

    python bench/datasets/convert_doc2dial.py /path/to/doc2dial_rc_val.csv --out ../shared/datasets/doc2dial
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import re
from pathlib import Path

from layout import Article, Question, counts, slug, write_set

HELD_OUT_SHARE = 0.10
CLOSING = re.compile(r"[.!:;,]$")  # a question line ("How can I get new plates?") is a title here


def title_of(doc_id: str) -> str:
    return doc_id.split("#", 1)[0].strip()


def with_headings(text: str) -> str:
    """Mark a block's first line as a section heading when it reads as one; the words stay as they are."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in block.strip().splitlines()]
        first = lines[0].strip() if lines else ""
        looks_like_title = first and len(first.split()) <= 12 and not CLOSING.search(first)
        if looks_like_title and (len(lines) > 1 or len(blocks) > 0):
            lines[0] = f"## {first}"
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def held_out(doc_id: str) -> bool:
    return int(hashlib.sha1(doc_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < HELD_OUT_SHARE


def convert(rc_csv: Path) -> tuple[list[Article], list[Question]]:
    csv.field_size_limit(1 << 30)
    with rc_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ids: dict[str, str] = {}
    articles: list[Article] = []
    for row in rows:
        doc_id = row["title"]
        if doc_id in ids:
            continue
        base = f"{row['domain']}-{slug(title_of(doc_id), 70)}"
        article_id = base if base not in ids.values() else f"{base}-{slug(doc_id.split('#')[-1])}"
        ids[doc_id] = article_id
        if not held_out(doc_id):
            articles.append(Article(article_id, title_of(doc_id), with_headings(row["context"])))
    kept = {a.id for a in articles}
    questions, seen = [], set()
    for row in rows:
        history = row["question"]
        if history.count("user:") != 1 or "agent:" in history:  # only a dialogue's opening turn stands alone
            continue
        asked = " ".join(history.split("user:", 1)[1].split())
        article_id = ids[row["title"]]
        if not asked or (asked.lower(), article_id) in seen:
            continue
        seen.add((asked.lower(), article_id))
        span = ast.literal_eval(row["answers"])["text"][0].strip()
        extra = {"domain": row["domain"], "dial_id": row["id"].rsplit("_", 1)[0]}
        if article_id in kept:
            questions.append(Question(f"d2d-{len(questions) + 1:03d}", asked, span, [article_id], True, extra))
        else:
            extra["unanswerable_reason"] = f"its page ({title_of(row['title'])}) is held out of the corpus"
            questions.append(Question(f"d2d-{len(questions) + 1:03d}", asked, "", [], False, extra))
    return articles, questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="doc2dial_rc_val.csv (unzipped)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    articles, questions = convert(args.raw)
    write_set(args.out, articles, questions)
    print(counts(articles, questions))


if __name__ == "__main__":
    main()
