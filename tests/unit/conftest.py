"""A tiny knowledge base, indexed with the hash embedder into real Chroma."""

from __future__ import annotations

import textwrap

import pytest

from supportgraph.agents.brief import load_brief
from supportgraph.agents.service import SupportAgent
from supportgraph.config import Settings
from supportgraph.knowledge.embedding import HashEmbedder
from supportgraph.knowledge.index import build_index
from supportgraph.knowledge.retrieval import Retriever
from supportgraph.params import Calibration, load_params
from tests.conftest import REPO

ARTICLES = {
    "troubleshooting/charged-twice.md": """\
        ---
        id: ts-charged-twice
        title: I was charged twice
        type: troubleshooting
        product_area: billing
        tags: [billing, duplicate, charge]
        ---
        # I was charged twice

        A second charge is often a pending authorization.

        ## Steps
        1. Check your statement for a pending charge twice.
        2. Open Settings > Billing > Invoices and look for two paid invoices.
        3. Report a billing problem if you were charged twice.
        """,
    "troubleshooting/sync.md": """\
        ---
        id: ts-sync
        title: The app is not syncing
        type: troubleshooting
        product_area: apps
        requires: [device]
        ---
        # The app is not syncing

        Changes do not sync between devices.

        ## Steps (iOS)
        1. Update the app sync in the App Store.
        2. Turn on Background App Refresh.

        ## Steps (Android)
        1. Update the app sync in Google Play.
        2. Allow background data.
        """,
    "policies/refunds.md": """\
        ---
        id: policy-refunds
        title: Refund policy
        type: policy
        product_area: billing
        ---
        # Refund policy

        Duplicate charges are always refunded in full. Monthly plans: 14 days.
        """,
    "policies/internal.md": """\
        ---
        id: internal-credits
        title: Internal goodwill credits
        type: policy
        audience: staff
        ---
        # Internal goodwill credits

        Staff may grant goodwill credits with approval code GW-2026-0001 for a charged twice case.
        """,
    "troubleshooting/promise.md": """\
        ---
        id: ts-export-promise
        title: Export stuck
        type: troubleshooting
        ---
        # Export stuck

        ## Steps
        1. Wait for the export email.
        2. We will refund your plan if the export is stuck.
        """,
}


def write_kb(folder, articles=ARTICLES):
    for relative, text in articles.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return folder


@pytest.fixture
def kb_settings(tmp_path):
    knowledge = write_kb(tmp_path / "knowledge")
    return Settings(project_dir=REPO, home=tmp_path / "home", knowledge_dir=knowledge,
                    database_url=f"sqlite:///{tmp_path / 'unit.db'}")


@pytest.fixture
def hash_embedder():
    return HashEmbedder()


@pytest.fixture
def unit_brief():
    brief = load_brief(REPO / "agents" / "support" / "brief.yaml")
    escalation = brief.escalation.model_copy(update={"min_confidence": 0.2})
    return brief.model_copy(update={"escalation": escalation})


# The hash embedder's cosines mean little, and a 5-article index is too small to calibrate itself:
# the unit tests route on how much of the question the best article covers, nothing else.
HASH_WORLD_CONFIDENCE = Calibration(source="labelled", intercept=-3.0, dense=0.0, title=0.0, coverage=6.0,
                                    passage_coverage=0.0, known=0.0, missing=0.0)


def unit_retriever(settings, embedder) -> Retriever:
    params = load_params(REPO).retrieval.model_copy(update={"confidence": HASH_WORLD_CONFIDENCE})
    return Retriever(settings, embedder, params=params)


@pytest.fixture
def make_unit_agent(kb_settings, hash_embedder, unit_brief):
    """SupportAgent over the tiny knowledge base (indexed once it is called), with the hash world's confidence."""
    def make(**kwargs) -> SupportAgent:
        build_index(kb_settings, hash_embedder)
        return SupportAgent(kb_settings, embedder=hash_embedder, brief=unit_brief,
                            retriever=unit_retriever(kb_settings, hash_embedder), **kwargs)
    return make


@pytest.fixture
def unit_agent(make_unit_agent):
    return make_unit_agent()
