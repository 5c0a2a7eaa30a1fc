"""The transformer runners: a registered model name (or a Hugging Face config) with the layer
count and any config key overridable, built for concrete shapes and run by the executor."""
from __future__ import annotations

import time
from typing import Any, Mapping

import numpy as np

from .. import _core
from ..core.errors import InvalidArgumentError
from .graph import Executor, random_parameters

__all__ = ["Model", "model_names", "model_config", "config_keys"]

_NUMERIC_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                 "intermediate_size", "max_position_embeddings", "type_vocab_size", "norm_eps", "rope_theta",
                 "tie_word_embeddings")


def model_names() -> dict[str, str]:
    """Registered model name -> family ("bert", "gpt2", "llama")."""
    return dict(_core.model_names())


def config_keys() -> dict[str, str]:
    """Config key -> what it sets."""
    return dict(_core.model_config_keys())


def model_config(name: str, **overrides: Any) -> dict[str, Any]:
    """The config of a registered model with overrides applied (an unknown key is an error
    listing the allowed ones), with its parameter count."""
    return _core.model_config(name, {k: float(v) for k, v in overrides.items()})


class Model:
    """A transformer built for (batch, seq_len) and ready to run.

    ``Model("gpt2", num_hidden_layers=2)``: a registered model with config overrides, random
    weights from ``seed``; ``parameters`` (name -> array, Hugging Face names) replaces them.
    ``kv_cache``: decoders keep K/V per layer between calls (generation; ``past_len`` per call).
    Calls take other sequence lengths too (a new plan, cached)."""

    def __init__(self, name: str | None = None, *, config: Mapping[str, Any] | None = None, batch: int = 1,
                 seq_len: int = 128, seed: int = 0, parameters: Mapping[str, Any] | None = None, device: str = "cpu",
                 versions: Mapping[str, str] | None = None, kv_cache: bool = False, cache_len: int = 0,
                 last_token_logits: bool = False, padding_mask: bool = False, **overrides: Any) -> None:
        if (name is None) == (config is None):
            raise InvalidArgumentError("Model: give a model name or a config, not both")
        cfg = dict(config) if config is not None else model_config(name, **overrides)
        if config is not None and overrides:
            cfg = _core.family_config(cfg["family"], {**_numeric(cfg), **{k: float(v) for k, v in overrides.items()}})
        self.name = name or cfg["family"]
        self.family: str = cfg["family"]
        self.config: dict[str, Any] = cfg
        self.batch, self.seq_len, self.kv_cache = int(batch), int(seq_len), bool(kv_cache)
        self.graph, self.inits, build_seconds = _core.build_transformer(
            self.family, _numeric(cfg), self.batch, self.seq_len, self.kv_cache, int(cache_len),
            bool(last_token_logits), bool(padding_mask))
        t0 = time.perf_counter()
        params = dict(parameters) if parameters is not None else random_parameters(self.graph, self.inits, seed,
                                                                                    device)
        self.executor = Executor(self.graph, params, device, versions)
        self.phases: dict[str, float] = {"build": build_seconds, "weights": time.perf_counter() - t0}
        self.input_names = [v["name"] for v in self.graph.inputs]
        self.output_names = list(self.graph.outputs)

    @property
    def parameter_count(self) -> int:
        return sum(int(np.prod(p["shape"])) for p in self.graph.parameters)

    @property
    def parameter_bytes(self) -> int:
        return int(self.executor.stats["parameter_bytes"])

    def inputs_for(self, input_ids: Any, token_type_ids: Any = None, attention_mask: Any = None,
                   past_len: int = 0, position_ids: Any = None) -> list[Any]:
        ids = np.ascontiguousarray(np.asarray(input_ids, dtype=np.int64))
        if ids.ndim != 2:
            raise InvalidArgumentError(f"{self.name}: input_ids must be [batch, seq_len], got shape {ids.shape}")
        feeds: dict[str, Any] = {"input_ids": ids}
        if "position_ids" in self.input_names:  # padded batches with a cache: the mask covers the cache slots
            capacity = self.graph.inputs[self.input_names.index("attention_mask")]["shape"][1]
            if attention_mask is None:
                attention_mask = np.zeros((ids.shape[0], capacity), np.float32)
                attention_mask[:, :past_len + ids.shape[1]] = 1
            if position_ids is None:
                position_ids = np.broadcast_to(np.arange(past_len, past_len + ids.shape[1]), ids.shape)
            feeds["position_ids"] = np.ascontiguousarray(np.asarray(position_ids, dtype=np.int64))
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = (np.zeros_like(ids) if token_type_ids is None
                                       else np.ascontiguousarray(np.asarray(token_type_ids, dtype=np.int64)))
        if "attention_mask" in self.input_names:
            feeds["attention_mask"] = (np.ones(ids.shape, np.float32) if attention_mask is None
                                       else np.ascontiguousarray(np.asarray(attention_mask, dtype=np.float32)))
        elif attention_mask is not None:
            raise InvalidArgumentError(f"{self.name}: attention_mask given but the model was built without "
                                       "padding_mask=True")
        return [feeds[n] for n in self.input_names]

    def __call__(self, input_ids: Any, token_type_ids: Any = None, attention_mask: Any = None,
                 past_len: int | None = None, position_ids: Any = None) -> dict[str, np.ndarray]:
        """Runs the model: output name -> NumPy array (copies). A cached model built with
        padding_mask=True takes attention_mask over its cache slots [batch, capacity] and
        position_ids [batch, seq_len] (default: every slot so far real, positions from past_len)."""
        scalars = {"past_len": int(past_len or 0)} if self.kv_cache else {}
        outs = self.executor.run(self.inputs_for(input_ids, token_type_ids, attention_mask, int(past_len or 0),
                                                 position_ids), scalars)
        return dict(zip(self.output_names, outs))


def _numeric(cfg: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(cfg[k]) for k in _NUMERIC_KEYS if k in cfg}
