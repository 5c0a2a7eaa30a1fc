"""Text generation with a KV cache: a prefill of the prompt, then one decode step per token,
greedy or sampled (temperature, top-k, top-p) from a seed, with stop tokens and a maximum
length. The result carries llama-bench's figures: time to first token, time per output token
(a distribution), prefill and decode tokens/s, and the KV cache's bytes."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from ..core.errors import InvalidArgumentError
from .transformer import Model

__all__ = ["GenerationResult", "generate", "sample_next"]


@dataclass
class GenerationResult:
    tokens: np.ndarray                 # [batch, new_tokens] generated ids (stop token included)
    prompt_tokens: int                 # per row
    ttft_seconds: float                # prefill + first token
    tpot_seconds: list[float] = field(default_factory=list)  # each decode step
    kv_cache_bytes: int = 0
    stopped: list[bool] = field(default_factory=list)  # per row: hit a stop token

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


def sample_next(logits: np.ndarray, rng: np.random.Generator, temperature: float = 0.0, top_k: int = 0,
                top_p: float = 1.0) -> np.ndarray:
    """Next token per row of logits [batch, vocab]: argmax when temperature == 0, else a draw
    from softmax(logits / temperature) restricted to the top_k tokens and to the smallest set
    whose probability reaches top_p."""
    if temperature == 0.0:
        return np.argmax(logits, axis=-1)
    out = np.empty(logits.shape[0], np.int64)
    for r, row in enumerate(logits.astype(np.float64) / temperature):
        order = np.argsort(-row, kind="stable")
        if top_k > 0:
            order = order[:top_k]
        p = np.exp(row[order] - row[order[0]])
        p /= p.sum()
        if top_p < 1.0:
            keep = int(np.searchsorted(np.cumsum(p), top_p) + 1)
            order, p = order[:keep], p[:keep] / p[:keep].sum()
        out[r] = order[rng.choice(len(order), p=p)]
    return out


def _check(name: str, ok: bool, message: str) -> None:
    if not ok:
        raise InvalidArgumentError(f"generate: {name}{message}")


def generate(model: Model, prompt_ids: Any, max_new_tokens: int = 20, *, temperature: float = 0.0, top_k: int = 0,
             top_p: float = 1.0, seed: int = 0, stop_tokens: Iterable[int] = (),
             max_length: int | None = None) -> GenerationResult:
    """Generates up to max_new_tokens per row after prompt_ids [batch, prompt_len] (rows of
    one length) with a model built with kv_cache=True. Stops a row at a stop token (kept) and
    every row at max_length total tokens (default: the cache capacity)."""
    _check("model", model.kv_cache, " must be built with kv_cache=True")
    ids = np.asarray(prompt_ids, dtype=np.int64)
    if ids.ndim == 1:
        ids = ids[None, :]
    _check("prompt_ids", ids.ndim == 2 and ids.shape[1] >= 1, f".shape={ids.shape} must be [batch, prompt_len >= 1]")
    _check("prompt_ids", ids.shape[0] == model.batch, f" has {ids.shape[0]} rows, the model was built for batch "
           f"{model.batch}")
    _check("max_new_tokens", int(max_new_tokens) >= 1, f"={max_new_tokens} must be >= 1")
    _check("temperature", temperature >= 0, f"={temperature} must be >= 0")
    _check("top_p", 0 < top_p <= 1, f"={top_p} must be in (0, 1]")
    _check("top_k", top_k >= 0, f"={top_k} must be >= 0")
    capacity = int(model.executor.graph.states[0]["shape"][2]) if model.executor.graph.states else 0
    limit = min(capacity, int(max_length)) if max_length else capacity
    _check("prompt_ids", ids.shape[1] < limit, f" has {ids.shape[1]} tokens, at or above the maximum length {limit}")
    stops = set(int(t) for t in stop_tokens)
    rng = np.random.default_rng(seed)
    model.executor.reset_states()

    t0 = time.perf_counter()
    logits = model(ids, past_len=0)["logits"][:, -1, :]
    token = sample_next(logits, rng, temperature, top_k, top_p)
    ttft = time.perf_counter() - t0
    generated = [token]
    done = np.array([int(t) in stops for t in token])
    tpot: list[float] = []
    length = ids.shape[1] + 1
    while len(generated) < max_new_tokens and length <= limit and not done.all():
        t1 = time.perf_counter()
        logits = model(token[:, None], past_len=length - 1)["logits"][:, -1, :]
        token = sample_next(logits, rng, temperature, top_k, top_p)
        tpot.append(time.perf_counter() - t1)
        generated.append(token)
        done |= np.array([int(t) in stops for t in token])
        length += 1
    return GenerationResult(tokens=np.stack(generated, axis=1), prompt_tokens=int(ids.shape[1]), ttft_seconds=ttft,
                            tpot_seconds=tpot, kv_cache_bytes=int(model.executor.stats["state_bytes"]),
                            stopped=[bool(d) for d in done])
