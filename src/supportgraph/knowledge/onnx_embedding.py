"""all-MiniLM-L6-v2 through onnxruntime: sentence-transformers' vectors, faster (docs/benchmarks.md#ingestion).

sentence-transformers' own ONNX backend needs optimum, which does not work with transformers 5, so
the model is exported here, locally, from the bundled weights on first use (a few seconds) and
never downloaded: ``torch.onnx.export`` of the transformer (eager attention, so that onnxruntime's
BERT optimizer can fuse it with the layer norms and GELUs), then, for ``onnx-int8``, dynamic int8
quantization with one scale per output channel (one per tensor lost 3 points of hit@1 on
anthropic-docs) and 7-bit weights (so CPUs without VNNI do not saturate), the feed-forward output
projections left in fp32 (``ffn_output_nodes``). The
files are cached in ``<cache_dir>/<key>/``, the key hashing the model's files and this recipe, so
a changed model or recipe exports afresh. Mean pooling and L2 normalisation
are done in numpy, as the model's Pooling and Normalize modules do; the tokenizer is the model's
own tokenizer.json, truncated at its max_seq_length.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np
from filelock import FileLock

from supportgraph.errors import ConfigError

RECIPE = "eager-export-opset17+bert-fusions+int8-per-channel-7bit-ffn-out-fp32:2"  # change to re-export every cached model
BACKENDS = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_key(model_path: str) -> str:
    """Hash of the model's files (names, sizes, contents) and of the export recipe."""
    digest = hashlib.sha256(RECIPE.encode())
    root = Path(model_path)
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(f"{path.relative_to(root)}:{path.stat().st_size}".encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def exported_model(model_path: str, cache_dir: Path, backend: str) -> Path:
    """The ONNX file for ``backend``, exported (once, under a lock other processes respect) if missing."""
    folder = cache_dir / export_key(model_path)
    target = folder / BACKENDS[backend]
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / "export.lock")), _quiet():
        if not target.exists():  # another process may have made it while we waited
            fp32 = folder / BACKENDS["onnx"]
            try:
                if not fp32.exists():
                    _export(model_path, fp32)
                if backend == "onnx-int8":
                    _quantize(fp32, target)
            except Exception as error:  # a broken install or an unexpected model: say so, and the way out
                raise ConfigError(
                    f"Could not export the embedding model at {model_path} to ONNX for the {backend!r} backend "
                    f"({type(error).__name__}: {error}).",
                    "set SUPPORTGRAPH_EMBEDDING_BACKEND=torch, or reinstall the pinned onnx and onnxruntime "
                    "(`make install`).") from error
    return target


@contextlib.contextmanager
def _quiet():
    """The exporter's tracer warnings and the quantizer's advice are about their internals, not the user's setup."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def _export(model_path: str, target: Path) -> None:
    """torch.onnx.export of the transformer (-> last_hidden_state), then onnxruntime's BERT fusions."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model
    from sentence_transformers import SentenceTransformer

    for name, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
                        ("TRANSFORMERS_VERBOSITY", "error")):
        os.environ.setdefault(name, value)  # local files only, as SentenceTransformerEmbedder loads them
    model = SentenceTransformer(model_path, device="cpu", model_kwargs={"attn_implementation": "eager"})
    transformer = model[0].auto_model.eval()
    config = transformer.config

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                    token_type_ids=token_type_ids).last_hidden_state

    sample = model.tokenizer(["an example", "a longer example sentence"], padding=True, return_tensors="pt")
    raw = target.with_name("raw.onnx")
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(LastHiddenState(), tuple(sample[name] for name in INPUTS), str(raw),
                          input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    optimized = optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=1)
    partial = target.with_name(target.name + ".partial")
    optimized.save_model_to_file(str(partial))
    partial.replace(target)  # whole files only: a killed export leaves no half model behind
    raw.unlink(missing_ok=True)


def ffn_output_nodes(model) -> list[str]:
    """Each layer's feed-forward output projection (after GELU): the MatMuls int8 hurts most. Kept in fp32,
    the int8 vectors' distance to torch's halves (mean cosine 0.9937 -> 0.9965) for ~20% of the speed-up."""
    return [n.name for n in model.graph.node
            if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name]


def _quantize(fp32: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_name(target.name + ".partial")
    # DefaultTensorType: the fused ops are in Microsoft's domain, which ONNX shape inference cannot type.
    # reduce_range (7-bit weights): on x86 CPUs without VNNI (AVX2 only), onnxruntime's u8s8 kernel
    # saturates with 8-bit weights; measured on such a machine, the worst cosine to torch fell to 0.966
    # (a repetitive 256-token text), and with 7 bits it is 0.991, the mean unchanged (0.996).
    quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     nodes_to_exclude=ffn_output_nodes(onnx.load(str(fp32))),
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    partial.replace(target)


class OnnxEmbedder:
    """The Embedder for the ``onnx`` and ``onnx-int8`` backends; cheap to construct, loads in ``warm_up``."""

    def __init__(self, model_path: str | None = None, cache_dir: Path | None = None, backend: str = "onnx",
                 batch_size: int = 64, threads: int | None = None) -> None:
        from supportgraph.knowledge.embedding import default_model_path

        if backend not in BACKENDS:
            raise ValueError(f"unknown ONNX backend {backend!r}; one of {', '.join(BACKENDS)}")
        self.model_path = model_path or default_model_path()
        base = "all-MiniLM-L6-v2" if model_path is None else os.path.basename(model_path.rstrip("/"))
        self.name = f"{base}-{backend}"  # chunks are keyed by it: another backend re-embeds them
        self.backend = backend
        self.recipe = RECIPE  # part of the chunks' keys (embedding.vectors_key): a new recipe re-embeds
        if cache_dir is None:
            from supportgraph.config import Settings

            cache_dir = Settings().home / "models"
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self.model_file: Path | None = None
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime
            from tokenizers import Tokenizer

            self.model_file = exported_model(self.model_path, self.cache_dir, self.backend)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Threads that sleep when idle instead of spinning: on cores shared with a web server or
            # another job, spinning steals their time (measured 5-15% faster here under load).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3  # warnings about unused initializers are not the user's business
            self._session = onnxruntime.InferenceSession(str(self.model_file), options,
                                                         providers=["CPUExecutionProvider"])
            self._inputs = {i.name for i in self._session.get_inputs()}
            tokenizer = Tokenizer.from_file(str(Path(self.model_path) / "tokenizer.json"))
            tokenizer.enable_truncation(max_length=_max_seq_length(self.model_path))
            tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
            self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.empty((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: less padding
        vectors = np.empty((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self._embed_batch([texts[i] for i in rows])
            if vectors.shape[1] == 0:
                vectors = np.empty((len(texts), batch.shape[1]), dtype=np.float32)
            vectors[rows] = batch
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _max_seq_length(model_path: str) -> int:
    config = Path(model_path) / "sentence_bert_config.json"
    return int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.exists() else 256
