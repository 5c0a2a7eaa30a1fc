"""Text generation with a KV cache (the runner is native: csrc/models/generation.cpp): a
prefill of the prompt, then one decode step per token, greedy or sampled (temperature,
top-k, top-p) from a seed, with stop tokens and a maximum length. The result carries
llama-bench's figures: time to first token, time per output token (a distribution), prefill
and decode tokens/s, and the KV cache's bytes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .. import _core
from ..core.errors import InvalidArgumentError
from .transformer import Model

__all__ = ["GenerationResult", "generate", "sample_tokens"]


@dataclass
class GenerationResult:
    tokens: np.ndarray                 # [batch, new_tokens] generated ids (stop token included)
    prompt_tokens: int                 # per row
    ttft_seconds: float                # prefill + first token
    tpot_seconds: list[float] = field(default_factory=list)  # each decode step
    kv_cache_bytes: int = 0
    stopped: list[bool] = field(default_factory=list)  # per row: produced a stop token

    @property
    def new_tokens(self) -> int:
        return int(self.tokens.shape[1])

    @property
    def prefill_tokens_per_second(self) -> float:
        return self.tokens.shape[0] * self.prompt_tokens / self.ttft_seconds if self.ttft_seconds > 0 else 0.0

    @property
    def decode_tokens_per_second(self) -> float:
        total = sum(self.tpot_seconds)
        return self.tokens.shape[0] * len(self.tpot_seconds) / total if total > 0 else 0.0

    def tpot_percentiles(self) -> dict[str, float]:
        if not self.tpot_seconds:
            return {}
        p = np.percentile(np.asarray(self.tpot_seconds), [50, 90, 99])
        return {"p50": float(p[0]), "p90": float(p[1]), "p99": float(p[2])}

    def metrics(self) -> dict[str, Any]:
        return {"ttft_s": self.ttft_seconds, "tpot_s": self.tpot_percentiles(),
                "prefill_tokens_per_s": self.prefill_tokens_per_second,
                "decode_tokens_per_s": self.decode_tokens_per_second, "new_tokens": self.new_tokens,
                "kv_cache_bytes": self.kv_cache_bytes}


def sample_tokens(logits: Any, temperature: float = 0.0, top_k: int = 0, top_p: float = 1.0, seed: int = 0,
                  draw: int = 0) -> list[int]:
    """The next token per row of logits [rows, vocab], as generate draws it: argmax at
    temperature 0, else from softmax(logits / temperature) cut to top_k and top_p."""
    return _core.sample_tokens(np.ascontiguousarray(logits, dtype=np.float32), float(temperature), int(top_k),
                               float(top_p), int(seed), int(draw))


def _left_padded(prompts: Any, pad_token_id: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows of different lengths (a list of sequences) as one left-padded array and its mask."""
    if isinstance(prompts, (list, tuple)) and prompts and not np.isscalar(prompts[0]):
        rows = [np.asarray(r, dtype=np.int64).reshape(-1) for r in prompts]
        if len({len(r) for r in rows}) > 1:
            width = max(len(r) for r in rows)
            if min(len(r) for r in rows) == 0:
                raise InvalidArgumentError("generate: prompt_ids has an empty row")
            ids = np.full((len(rows), width), pad_token_id, np.int64)
            mask = np.zeros((len(rows), width), np.float32)
            for i, r in enumerate(rows):
                ids[i, width - len(r):] = r
                mask[i, width - len(r):] = 1
            return ids, mask
    ids = np.asarray(prompts, dtype=np.int64)
    return (ids[None, :] if ids.ndim == 1 else ids), None


def generate(model: Model, prompt_ids: Any, max_new_tokens: int = 20, *, temperature: float = 0.0, top_k: int = 0,
             top_p: float = 1.0, seed: int = 0, stop_tokens: Iterable[int] = (),
             max_length: int | None = None, attention_mask: Any = None, pad_token_id: int = 0) -> GenerationResult:
    """Generates up to max_new_tokens per row after prompt_ids with a model built with
    kv_cache=True. prompt_ids is [batch, prompt_len], or a list of rows of different lengths,
    which are left-padded with pad_token_id (or give the padded array and its attention_mask,
    1 for real tokens, padding first); padded batches need a model built with
    padding_mask=True, and each row then generates what it would alone. A row stops after a
    stop token; every row stops at max_length total tokens (default: the cache capacity)."""
    if not model.kv_cache:
        raise InvalidArgumentError("generate: model must be built with kv_cache=True")
    ids, mask = _left_padded(prompt_ids, int(pad_token_id))
    if attention_mask is not None:
        if mask is not None:
            raise InvalidArgumentError("generate: give either rows of different lengths or attention_mask, not both")
        mask = np.asarray(attention_mask, dtype=np.float32)
        mask = mask[None, :] if mask.ndim == 1 else mask
    out = _core.generate(model.executor._native, np.ascontiguousarray(ids), int(max_new_tokens), float(temperature),
                         int(top_k), float(top_p), int(seed), [int(t) for t in stop_tokens], int(max_length or 0),
                         None if mask is None else np.ascontiguousarray(mask))
    return GenerationResult(tokens=np.asarray(out["tokens"], dtype=np.int64), prompt_tokens=out["prompt_tokens"],
                            ttft_seconds=out["ttft_seconds"], tpot_seconds=list(out["tpot_seconds"]),
                            kv_cache_bytes=out["kv_cache_bytes"], stopped=list(out["stopped"]))
