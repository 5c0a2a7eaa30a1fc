"""Peers of the model cases: the Hugging Face transformers model in PyTorch eager, the same
model exported to ONNX Runtime, and (generation) llama.cpp through llama-cpp-python on an F32
GGUF file of the same weights, each holding the weights our case draws (same names, same seed
procedure), on as many threads as our kernels."""
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


def seeded_parameters(cfg: Mapping[str, Any], seed: int = 0) -> dict[str, np.ndarray]:
    """The parameters our runner draws from `seed` for a model of config `cfg`: Hugging Face
    name -> float32 array."""
    from .. import _core
    graph, inits, _ = _core.build_transformer(cfg["family"], {k: float(cfg[k]) for k in _NUMERIC}, 1, 8)
    return {name: np.asarray(t) for name, t in _core.graph_random_parameters(graph, inits, seed).items()}


def hf_model(cfg: Mapping[str, Any], seed: int = 0) -> Any:
    """The transformers model of our config, holding the parameters our runner draws from `seed`."""
    import torch
    import transformers

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
    state = {name: torch.from_numpy(t.copy()) for name, t in seeded_parameters(cfg, seed).items()}
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
    ids = torch.from_numpy(_prompt_ids(cfg, p)).to(device)
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


def _prompt_ids(cfg: Mapping[str, Any], p: Mapping[str, Any]) -> np.ndarray:
    """The prompt every generation peer runs (torch_generate's): [batch, prompt_len] ids."""
    return np.random.default_rng(0).integers(0, cfg["vocab_size"], (p["batch"], p["prompt_len"]), dtype=np.int64)


def llama_cpp_model(cfg: Mapping[str, Any], state: Mapping[str, Any], n_ctx: int, n_batch: int,
                    n_threads: int, **kwargs: Any) -> Any:
    """A llama_cpp.Llama holding `state` (Hugging Face names) through a temporary F32 GGUF
    file, read into memory (no mmap) and deleted once loaded. The KV cache is F32, as ours, so
    both run the same arithmetic (llama.cpp's default is F16). Without the gguf package, or
    when llama.cpp cannot load the file, PeerSkip says why."""
    import importlib.util
    import shutil

    import llama_cpp

    from ._gguf import write_gguf
    if importlib.util.find_spec("gguf") is None:  # llama-cpp-python does not bring it
        raise PeerSkip("peer_missing", "gguf is not installed (it writes the GGUF file llama.cpp loads)")
    folder = tempfile.mkdtemp(prefix="bs-gguf-")
    try:
        path = write_gguf(cfg, state, os.path.join(folder, "model.gguf"))
        f32 = int(getattr(llama_cpp, "GGML_TYPE_F32", 0))
        try:
            return llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_batch,
                                   n_threads=n_threads, n_threads_batch=n_threads, type_k=f32, type_v=f32,
                                   use_mmap=False, n_gpu_layers=0, verbose=False, **kwargs)
        except (ValueError, RuntimeError) as exc:  # a llama.cpp that rejects the file: no comparison, said why
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PeerSkip("peer_unsupported", f"llama.cpp cannot load the {cfg['family']} GGUF file: {first}") \
                from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def llamacpp_generate(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    """llama.cpp generating as our case does: the same weights (an F32 GGUF file), the same
    prompt ids, a prefill then new_tokens tokens (greedy at temperature 0, else sampled with the
    case's temperature, top_k and top_p through llama.cpp's own sampler chain), never stopping
    at EOS; threads as our kernels'. Each call starts from an empty KV cache."""
    from ._torch import harness_threads
    if device != "cpu":
        raise PeerSkip("peer_unsupported", "the llama.cpp peer runs on the CPU here")
    p = _with_defaults("model_generate", p)
    if p["batch"] != 1:
        raise PeerSkip("peer_unsupported", f"batch={p['batch']}: the llama.cpp peer generates one sequence")
    cfg = _config(p)
    if cfg["family"] not in ("gpt2", "llama"):
        raise PeerSkip("peer_unsupported", f"no GGUF export for model family {cfg['family']!r}")
    prompt = [int(t) for t in _prompt_ids(cfg, p)[0]]
    new_tokens = int(p["new_tokens"])
    llm = llama_cpp_model(cfg, seeded_parameters(cfg), n_ctx=len(prompt) + new_tokens + 8, n_batch=len(prompt),
                          n_threads=harness_threads())
    temperature = float(p["temperature"])
    sampling = dict(temp=temperature, top_k=int(p["top_k"]), top_p=float(p["top_p"])) if temperature > 0 else \
        dict(temp=0.0, top_k=0, top_p=1.0)
    # llama-cpp-python's own defaults (top_k 40, min_p 0.05) are not the case's: off unless asked
    sampling.update(min_p=0.0, typical_p=1.0, repeat_penalty=1.0)

    def run() -> list[int]:
        llm.reset()  # no prompt reuse from the last call: a full prefill every time
        tokens = llm.generate(prompt, reset=True, **sampling)
        try:
            return [next(tokens) for _ in range(new_tokens)]
        finally:
            tokens.close()
    return run


PEERS = {
    "model_forward": {"cpu": {"torch": ("transformers", torch_forward),
                              "onnxruntime": ("onnxruntime", onnxruntime_forward)}},
    "model_generate": {"cpu": {"torch": ("transformers", torch_generate),
                               "llamacpp": ("llama_cpp", llamacpp_generate)}},
}
