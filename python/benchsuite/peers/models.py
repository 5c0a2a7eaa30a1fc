"""Peers of the model cases: the Hugging Face transformers model in PyTorch eager and the
same model exported to ONNX Runtime, each holding the weights our case draws (same names,
same seed procedure), on as many threads as our kernels."""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Mapping

import numpy as np

from ._base import PeerSkip

_NUMERIC = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
            "intermediate_size", "max_position_embeddings", "type_vocab_size", "norm_eps", "rope_theta",
            "tie_word_embeddings")


def _with_defaults(case: str, p: Mapping[str, Any]) -> dict[str, Any]:
    """The case's parameters as the case ran them: the profile's, then the family's defaults."""
    from .. import _core
    family = next(f for f in _core.case_families() if f["name"] == case)
    return {**{q["name"]: q["default"] for q in family["params"]}, **p}


def _config(p: Mapping[str, Any]) -> dict[str, Any]:
    from .. import _core
    return _core.model_config(p["model"], {"num_hidden_layers": float(p["layers"])} if p.get("layers") else {})


def hf_model(cfg: Mapping[str, Any], seed: int = 0) -> Any:
    """The transformers model of our config, holding the parameters our runner draws from `seed`."""
    import torch
    import transformers

    from .. import _core
    family = cfg["family"]
    common = dict(vocab_size=cfg["vocab_size"], hidden_size=cfg["hidden_size"],
                  num_hidden_layers=cfg["num_hidden_layers"], num_attention_heads=cfg["num_attention_heads"],
                  intermediate_size=cfg["intermediate_size"], max_position_embeddings=cfg["max_position_embeddings"])
    if family == "bert":
        model = transformers.BertModel(transformers.BertConfig(**common, type_vocab_size=cfg["type_vocab_size"],
                                                               layer_norm_eps=cfg["norm_eps"]))
    elif family == "gpt2":
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
            vocab_size=cfg["vocab_size"], n_embd=cfg["hidden_size"], n_layer=cfg["num_hidden_layers"],
            n_head=cfg["num_attention_heads"], n_inner=cfg["intermediate_size"],
            n_positions=cfg["max_position_embeddings"], layer_norm_epsilon=cfg["norm_eps"]))
    else:
        model = transformers.LlamaForCausalLM(transformers.LlamaConfig(
            **common, num_key_value_heads=cfg["num_key_value_heads"], rms_norm_eps=cfg["norm_eps"],
            rope_theta=cfg["rope_theta"], tie_word_embeddings=bool(cfg["tie_word_embeddings"])))
    graph, inits, _ = _core.build_transformer(family, {k: float(cfg[k]) for k in _NUMERIC}, 1, 8)
    ours = _core.graph_random_parameters(graph, inits, seed)
    state = {name: torch.from_numpy(np.asarray(t).copy()) for name, t in ours.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    leftover = [m for m in missing if not m.endswith(("lm_head.weight", "position_ids"))]
    if unexpected or leftover:
        raise RuntimeError(f"weights do not map onto {type(model).__name__}: missing {leftover}, "
                           f"unexpected {unexpected}")
    if family == "gpt2":
        model.tie_weights()
    model.config.use_cache = False  # a forward builds no KV cache (ours neither); generate turns it on
    return model.eval()


def _inputs(cfg: Mapping[str, Any], p: Mapping[str, Any]) -> list[np.ndarray]:
    gen = np.random.default_rng(0)
    ids = gen.integers(0, cfg["vocab_size"], (p["batch"], p["seq_len"]), dtype=np.int64)
    return [ids, np.zeros_like(ids)] if cfg["family"] == "bert" else [ids]


def torch_forward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    import torch
    p = _with_defaults("model_forward", p)
    cfg = _config(p)
    model = hf_model(cfg).to(device)
    feeds = [torch.from_numpy(x).to(device) for x in _inputs(cfg, p)]
    kwargs = {"token_type_ids": feeds[1]} if cfg["family"] == "bert" else {}

    def run() -> Any:
        with torch.inference_mode():
            return model(feeds[0], **kwargs)
    return run


def onnxruntime_forward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    import onnxruntime as ort
    import torch

    from ._torch import harness_threads
    if device != "cpu":
        raise PeerSkip("peer_unsupported", "the ONNX Runtime peer runs on the CPU here")
    p = _with_defaults("model_forward", p)
    cfg = _config(p)
    model = hf_model(cfg)
    feeds = _inputs(cfg, p)
    names = ["input_ids", "token_type_ids"][:len(feeds)]
    path = os.path.join(tempfile.mkdtemp(prefix="bs-onnx-"), "model.onnx")
    try:
        with torch.inference_mode():
            torch.onnx.export(model, tuple(torch.from_numpy(x) for x in feeds), path, input_names=names,
                              output_names=["out"], opset_version=18, dynamo=True)
    except Exception as exc:  # an exporter that cannot take this model: no comparison, said why
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PeerSkip("peer_unsupported", f"torch.onnx.export failed: {first}") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = harness_threads()
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    inputs = dict(zip(names, feeds))
    return lambda: session.run(None, inputs)


def torch_generate(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    import torch
    p = _with_defaults("model_generate", p)
    cfg = _config(p)
    model = hf_model(cfg).to(device)
    ids = torch.from_numpy(np.random.default_rng(0).integers(0, cfg["vocab_size"], (p["batch"], p["prompt_len"]),
                                                             dtype=np.int64)).to(device)
    mask = torch.ones_like(ids)
    sample = p["temperature"] > 0
    kwargs = dict(use_cache=True, do_sample=sample, max_new_tokens=p["new_tokens"], min_new_tokens=p["new_tokens"], pad_token_id=0,
                  attention_mask=mask)
    if sample:
        kwargs.update(temperature=p["temperature"], top_p=p["top_p"], top_k=p["top_k"] or None)

    def run() -> Any:
        with torch.inference_mode():
            return model.generate(ids, **kwargs)
    return run


PEERS = {
    "model_forward": {"cpu": {"torch": ("transformers", torch_forward),
                              "onnxruntime": ("onnxruntime", onnxruntime_forward)}},
    "model_generate": {"cpu": {"torch": ("transformers", torch_generate)}},
}
