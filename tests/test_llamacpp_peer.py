"""The llama.cpp peer of model_generate: our weights written as an F32 GGUF file
(peers/_gguf.py) give llama.cpp the model our runner runs (last-position logits within
tolerance, the same greedy tokens), and the peer's callable generates exactly new_tokens
tokens. Tests that need gguf or llama-cpp-python (extra: llama) skip with the reason."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import benchsuite as bs
from benchsuite.models import Model, generate
from benchsuite.peers import PEERS, PeerSkip, measure_peers, peers_for
from benchsuite.peers import models as model_peers
from benchsuite.peers._torch import harness_threads
from benchsuite.peers._gguf import byte_level_vocab, write_gguf

from conftest import fast_settings

PROMPT, NEW = 12, 16
TINY = dict(vocab_size=256, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=64)
CONFIGS = {  # registered model -> overrides: 2 layers, hidden 64, 4 heads
    "gpt2": ("gpt2", dict(TINY, intermediate_size=256)),
    "llama": ("llama-7b", dict(TINY, intermediate_size=160, num_key_value_heads=4)),
    "llama-gqa": ("llama-7b", dict(TINY, intermediate_size=160, num_key_value_heads=2)),
}
# Last-position logits, max |difference| relative to max |logit| (~6.5 here). llama.cpp runs
# F32 weights, F32 matmuls and (as the peer sets) an F32 KV cache, with its own summation
# orders and SIMD exp: LLaMA differs by <= 5e-6 (8 seeds measured), so 1e-4 keeps a 20x margin
# and still catches a real mistake (q/k left unpermuted: 1.6). GPT-2's GELU is read from an
# FP16 table in ggml-cpu (GGML_GELU_FP16: input and output rounded to 11 bits): <= 3.7e-4
# measured, all of it that table (with the same rounding emulated in PyTorch: 5e-7), so 1e-3.
TOLERANCE = {"gpt2": 1e-3, "llama": 1e-4, "llama-gqa": 1e-4}


@pytest.fixture(scope="module")
def llama_cpp():
    pytest.importorskip("gguf", reason="peer_missing: gguf is not installed (extra: llama)")
    return pytest.importorskip("llama_cpp", reason="peer_missing: llama_cpp is not installed (extra: llama)")


def tiny(kind: str, seed: int = 3) -> tuple[dict, dict[str, np.ndarray]]:
    """A tiny config and its weights: the ones our runner draws from `seed`, spread out. The
    runner's init (std 0.02, unit norms, zero biases) gives near-uniform logits whose greedy
    pick is decided by differences far below either side's rounding; scaled to std ~0.3 and
    with norm weights and biases drawn, logits are spread and every parameter matters (a
    misplaced bias or a wrong q/k permutation shows)."""
    name, overrides = CONFIGS[kind]
    cfg = bs.models.model_config(name, **overrides)
    rng = np.random.default_rng(seed)
    params = {}
    for key, w in model_peers.seeded_parameters(cfg, seed).items():
        params[key] = (w * 15.0 if w.ndim == 2 else w + 0.5 * rng.standard_normal(w.shape)).astype(np.float32)
    return cfg, params


def load(cfg, params, **kwargs):
    return model_peers.llama_cpp_model(cfg, params, n_ctx=PROMPT + NEW + 8, n_batch=PROMPT,
                                       n_threads=harness_threads(), **kwargs)


def rel_err(got, want) -> float:
    return float(np.max(np.abs(np.asarray(got, np.float64) - want)) / np.max(np.abs(want)))


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_llamacpp_matches_our_runner(llama_cpp, kind):
    cfg, params = tiny(kind)
    # fixed inputs, not conftest's fresh rng: GPT-2's 3.7e-4 could flip a greedy pick whose two
    # best logits are that close (the closest seen over 8 seeds: 2e-3), and this must not flake
    prompt = np.random.default_rng(11).integers(0, cfg["vocab_size"], (1, PROMPT))
    llm = load(cfg, params, logits_all=True)

    # (a) the logits of the last prompt position
    llm.reset()
    llm.eval([int(t) for t in prompt[0]])
    theirs = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
    ours = Model(config=cfg, seq_len=PROMPT, parameters=params)(prompt)["logits"][0, -1]
    assert rel_err(theirs, ours) < TOLERANCE[kind], (kind, rel_err(theirs, ours))

    # (b) greedy generation: the same tokens
    want = generate(Model(config=cfg, seq_len=PROMPT, kv_cache=True, last_token_logits=True, parameters=params),
                    prompt, max_new_tokens=NEW).tokens[0]
    llm.reset()
    tokens = llm.generate([int(t) for t in prompt[0]], temp=0.0, top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.0)
    got = [next(tokens) for _ in range(NEW)]
    tokens.close()
    np.testing.assert_array_equal(got, want)


def test_the_peer_generates_new_tokens_per_call(llama_cpp, monkeypatch):
    p = {"model": "llama-7b", "layers": 1, "prompt_len": 8, "new_tokens": 5, "temperature": 0.0}
    small = dict(hidden_size=64, num_attention_heads=4, intermediate_size=128, vocab_size=300)
    # the registered llama-7b, shrunk: the factory's path (seeded weights, GGUF, prompt ids) unchanged
    monkeypatch.setattr(model_peers, "_config",
                        lambda q: bs.models.model_config(q["model"], num_hidden_layers=q["layers"], **small))
    run = model_peers.llamacpp_generate(p, "cpu")
    sampled = model_peers.llamacpp_generate({**p, "temperature": 1.0, "top_p": 0.9, "top_k": 20}, "cpu")
    first, second = run(), run()
    assert len(first) == 5 and all(0 <= t < 300 for t in first)
    assert first == second  # every call a fresh prefill + decode: no state carried over
    assert len(sampled()) == 5


def test_the_peer_skips_what_it_cannot_run():
    for params, device, why in [({"batch": 2}, "cpu", "batch=2"), ({}, "cuda:0", "on the CPU")]:
        with pytest.raises(PeerSkip, match=why) as info:
            model_peers.llamacpp_generate(params, device)
        assert info.value.reason == "peer_unsupported"
    with pytest.raises(PeerSkip, match="family 'bert'") as info:
        write_gguf(bs.models.model_config("bert-base", num_hidden_layers=1), {}, "/nonexistent/x.gguf")
    assert info.value.reason == "peer_unsupported"


def test_a_gguf_llamacpp_rejects_or_a_missing_gguf_is_a_skip(llama_cpp, monkeypatch):
    cfg, params = tiny("llama")
    params.pop("model.norm.weight")  # a file llama.cpp refuses to load (a required tensor missing)
    with pytest.raises(PeerSkip, match="llama.cpp cannot load the llama GGUF file") as info:
        load(cfg, params)
    assert info.value.reason == "peer_unsupported"
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "gguf" else real_find_spec(name, *args))
    with pytest.raises(PeerSkip, match="gguf is not installed") as info:
        load(*tiny("gpt2"))
    assert info.value.reason == "peer_missing"


def test_the_peer_is_registered_and_missing_is_a_skip(monkeypatch):
    assert peers_for("model_generate", "cpu")["llamacpp"] == ("llama_cpp", model_peers.llamacpp_generate)
    monkeypatch.setitem(PEERS["model_generate"], "cpu", {"llamacpp": PEERS["model_generate"]["cpu"]["llamacpp"]})
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "llama_cpp" else real_find_spec(name, *args))
    out = measure_peers("model_generate", {"model": "gpt2", "layers": 1}, "cpu", 1e-3, fast_settings())
    assert out["llamacpp"] == {"status": "skipped", "reason": "peer_missing: llama_cpp is not installed",
                               "median_s": None, "speedup": None}


@pytest.mark.parametrize("n", [3, 97, 256, 257, 258, 700])
def test_the_gguf_vocabulary_is_a_valid_byte_level_bpe(n):
    tokens, types, merges, eos = byte_level_vocab(n)
    assert len(tokens) == len(types) == n and len(set(tokens)) == n and eos == n - 1
    assert types[-1] == 3 and set(types[:-1]) == {1} and merges
    known = set(tokens)
    for m in merges:  # each merge joins two tokens into a third, none with a space inside
        left, right = m.split(" ")
        assert left in known and right in known and left + right in known
