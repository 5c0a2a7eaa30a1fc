"""Weights as users hold them: Hugging Face checkpoints (config.json + *.safetensors), read
with the `safetensors` library and mapped by parameter name; and writing safetensors files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..core.errors import InvalidArgumentError
from .transformer import Model

__all__ = ["read_safetensors", "write_safetensors", "load_pretrained", "config_from_hf"]

# Hugging Face config.json keys -> ours, per model_type.
_HF_KEYS = {
    "gpt2": {"vocab_size": "vocab_size", "n_embd": "hidden_size", "n_layer": "num_hidden_layers",
             "n_head": "num_attention_heads", "n_inner": "intermediate_size", "n_positions": "max_position_embeddings",
             "layer_norm_epsilon": "norm_eps", "tie_word_embeddings": "tie_word_embeddings"},
    "bert": {"vocab_size": "vocab_size", "hidden_size": "hidden_size", "num_hidden_layers": "num_hidden_layers",
             "num_attention_heads": "num_attention_heads", "intermediate_size": "intermediate_size",
             "max_position_embeddings": "max_position_embeddings", "type_vocab_size": "type_vocab_size",
             "layer_norm_eps": "norm_eps"},
    "llama": {"vocab_size": "vocab_size", "hidden_size": "hidden_size", "num_hidden_layers": "num_hidden_layers",
              "num_attention_heads": "num_attention_heads", "num_key_value_heads": "num_key_value_heads",
              "intermediate_size": "intermediate_size", "max_position_embeddings": "max_position_embeddings",
              "rms_norm_eps": "norm_eps", "rope_theta": "rope_theta", "tie_word_embeddings": "tie_word_embeddings"},
}
# What each family's architecture computes; a config asking for anything else is refused.
_HF_REQUIRED = {
    "gpt2": {"activation_function": ("gelu_new",)},
    "bert": {"hidden_act": ("gelu",), "position_embedding_type": ("absolute",)},
    "llama": {"hidden_act": ("silu",), "rope_scaling": (None,), "attention_bias": (False,), "mlp_bias": (False,)},
}
_DEFAULTS = {"gpt2": {"tie_word_embeddings": True}, "llama": {"tie_word_embeddings": False}}
# Checkpoint tensors that are buffers, not parameters (causal masks, position ids, RoPE tables).
_BUFFER_SUFFIXES = (".attn.bias", ".attn.masked_bias", "embeddings.position_ids", "rotary_emb.inv_freq")
# Task heads whose base model this is: their prefix is dropped.
_PREFIXES = {"bert": ("bert.",), "gpt2": (), "llama": ()}


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """name -> array of a .safetensors file; a malformed file is one clear error naming it."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file
    try:
        return load_file(str(path))
    except (SafetensorError, ValueError, OSError, TypeError) as e:
        raise InvalidArgumentError(f"{path}: not a readable safetensors file ({e})") from None


def write_safetensors(path: str | Path, tensors: Mapping[str, Any]) -> None:
    from safetensors.numpy import save_file
    save_file({k: np.ascontiguousarray(np.asarray(v)) for k, v in tensors.items()}, str(path))


def config_from_hf(hf: Mapping[str, Any], source: str = "config.json") -> dict[str, Any]:
    """Our config (family + keys) from a Hugging Face config.json's contents."""
    from .. import _core
    family = hf.get("model_type")
    if family not in _HF_KEYS:
        raise InvalidArgumentError(f"{source}: model_type={family!r} is not supported "
                                   f"(supported: {', '.join(sorted(_HF_KEYS))})")
    for key, allowed in _HF_REQUIRED[family].items():
        if key in hf and hf[key] not in allowed:
            raise InvalidArgumentError(f"{source}: {key}={hf[key]!r} is not supported for {family} "
                                       f"(supported: {', '.join(map(repr, allowed))})")
    values: dict[str, float] = {k: float(v) for k, v in _DEFAULTS.get(family, {}).items()}
    for hf_key, key in _HF_KEYS[family].items():
        value = hf.get(hf_key)
        if value is None:
            continue
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)):
            raise InvalidArgumentError(f"{source}: {hf_key}={value!r} must be a number")
        values[key] = float(value)
    if family == "gpt2" and "intermediate_size" not in values:
        values["intermediate_size"] = 4 * values.get("hidden_size", 768)
    return _core.family_config(family, values)


def _parameters_from_checkpoint(tensors: dict[str, np.ndarray], family: str, tied: bool) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, t in tensors.items():
        if name.endswith(_BUFFER_SUFFIXES) or (tied and name == "lm_head.weight"):
            continue
        for prefix in _PREFIXES[family]:
            if name.startswith(prefix):
                name = name[len(prefix):]
        if t.dtype != np.float32:
            t = t.astype(np.float32)
        out[name] = t
    return out


def load_pretrained(path: str | Path, **options: Any) -> Model:
    """A Model from a Hugging Face checkpoint directory (config.json + model*.safetensors).
    options: Model's build options (batch, seq_len, kv_cache, device, num_hidden_layers, ...).
    A missing, extra or mis-shaped tensor is an error naming it and both shapes."""
    root = Path(path)
    config_file = root / "config.json"
    try:
        hf = json.loads(config_file.read_text())
    except OSError as e:
        raise InvalidArgumentError(f"{config_file}: cannot read ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise InvalidArgumentError(f"{config_file}: not valid JSON ({e})") from None
    cfg = config_from_hf(hf, str(config_file))
    files = sorted(root.glob("*.safetensors"))
    if not files:
        raise InvalidArgumentError(f"{root}: no .safetensors file")
    tensors: dict[str, np.ndarray] = {}
    for f in files:
        tensors.update(read_safetensors(f))
    params = _parameters_from_checkpoint(tensors, cfg["family"], bool(cfg["tie_word_embeddings"]))
    layers = options.pop("num_hidden_layers", None)
    if layers is not None:  # fewer layers than the checkpoint: keep theirs
        cfg = dict(cfg, num_hidden_layers=int(layers))
        params = {k: v for k, v in params.items() if _layer_of(k) is None or _layer_of(k) < int(layers)}
    return Model(config=cfg, parameters=params, **options)


def _layer_of(name: str) -> int | None:
    parts = name.split(".")
    for i, p in enumerate(parts[:-1]):
        if p in ("h", "layer", "layers") and parts[i + 1].isdigit():
            return int(parts[i + 1])
    return None
