"""Build the index until killed, printing each embedding batch once Chroma has stored it.

``python tests/integration/index_writer.py PROJECT HOME KNOWLEDGE`` prints ``ready`` once the model is loaded,
``batch DONE TOTAL`` after each batch of chunks is added to the collection (``batch 0 TOTAL`` before the first),
and ``built KB_VERSION`` when the manifest is written. test_index_robustness.py kills it with SIGKILL after
the k-th batch line and checks what the index kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from supportgraph.config import Settings
from supportgraph.knowledge.embedding import SentenceTransformerEmbedder
from supportgraph.knowledge.index import build_index


def main(project: str, home: str, knowledge: str) -> None:
    embedder = SentenceTransformerEmbedder()
    embedder.warm_up()
    print("ready", flush=True)
    settings = Settings(project_dir=Path(project), home=Path(home), knowledge_dir=Path(knowledge))
    report = build_index(settings, embedder, progress=lambda done, total: print(f"batch {done} {total}", flush=True))
    print(f"built {report.kb_version}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
