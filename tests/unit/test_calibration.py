"""The confidence's features and where its calibration comes from: the rarest missing question word,
a stored calibration fitted on older features (not used, fitted again), a calibration in params.yaml
fitted before `missing` existed (a clear error)."""

from __future__ import annotations

import math

import pytest

from supportgraph.errors import ConfigError
from supportgraph.knowledge.calibration import FEATURES, calibration_for, features, is_current
from supportgraph.knowledge.chunking import TITLES_FORMAT
from supportgraph.knowledge.index import build_index, read_manifest, write_manifest
from supportgraph.knowledge.lexical import LEXICAL_FORMAT
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.params import Calibration, load_params
from tests.conftest import REPO

pytestmark = pytest.mark.unit


def test_missing_is_the_rarest_question_word_the_article_lacks_on_the_knowledge_base_s_idf_scale(
        kb_settings, hash_embedder):
    build_index(kb_settings, hash_embedder)
    retriever = Retriever(kb_settings, hash_embedder)
    every_word = retriever.search("charged twice", k=5)
    top = next(h for h in every_word if h.article.id == "ts-charged-twice")
    assert top.missing == 0.0  # the article has each word

    hits = retriever.search("charged twice zeppelin", k=5)
    top = next(h for h in hits if h.article.id == "ts-charged-twice")
    articles = len(retriever.articles)
    unseen = math.log((articles + 1) / 0.5)  # "zeppelin": no article uses it, the highest IDF there is
    assert top.missing == pytest.approx(unseen / math.log(articles + 1), abs=1e-3)
    assert features([top]) == [top.dense_score, top.title_score, top.coverage, top.passage_coverage, top.known,
                               top.missing]
    assert len(FEATURES) == len(Calibration().weights())


def test_a_calibration_stored_before_today_s_features_is_not_used_and_indexing_fits_it_again(kb_settings,
                                                                                            hash_embedder):
    build_index(kb_settings, hash_embedder)
    params = load_params(REPO).retrieval
    fitted = Calibration(source="self", intercept=-1.0).model_dump() | {"questions": 30}
    current = fitted | {"features": list(FEATURES), "lexical_format": LEXICAL_FORMAT, "titles_format": TITLES_FORMAT}
    assert calibration_for({"calibration": current}, params).intercept == -1.0
    # Fitted when the titles channel held titles only (no headings): another ranking, so not used.
    assert not is_current(current | {"titles_format": 1})
    assert calibration_for({"calibration": current | {"titles_format": 1}}, params) == params.confidence
    # The manifest of an older index: its weights were for other features, so the defaults apply.
    older = fitted | {"features": ["dense", "title", "coverage", "passage_coverage", "known"]}  # no `missing`
    assert not is_current(older) and not is_current(fitted)
    # Today's features, but fitted on the ranking before the phrase channel: its intercept is stale too.
    assert not is_current(fitted | {"features": list(FEATURES)})
    assert calibration_for({"calibration": older}, params) == params.confidence

    manifest = read_manifest(kb_settings.index_dir)
    manifest["calibration"] = older
    write_manifest(kb_settings.index_dir, manifest)
    build_index(kb_settings, hash_embedder)  # the same articles: kept only if fitted on today's features
    assert read_manifest(kb_settings.index_dir).get("calibration") != older


def test_a_labelled_calibration_fitted_before_missing_existed_is_refused_with_the_fix(tmp_path):
    (tmp_path / "params.yaml").write_text("retrieval:\n  confidence:\n    source: labelled\n    coverage: 0.9\n")
    with pytest.raises(ConfigError) as error:
        load_params(tmp_path)
    assert "retrieval.confidence" in error.value.message and "`missing`" in error.value.message
    assert "supportgraph kb calibrate" in error.value.message
    # A hand-set weight is not a fit: the other weights keep their defaults.
    (tmp_path / "params.yaml").write_text("retrieval:\n  confidence:\n    coverage: 0.9\n")
    confidence = load_params(tmp_path).retrieval.confidence
    assert confidence.coverage == 0.9 and confidence.missing == Calibration().missing
