"""The transformer runners: configs and their errors, random weights from a seed, safetensors
loading by Hugging Face names, and parity with the Hugging Face implementation (hidden states
and logits within 1e-4 relative in fp32 on the CPU; greedy generation of 32 tokens gives the
same tokens). Parity tests skip with a reason when transformers is absent."""
from __future__ import annotations

import json

import numpy as np
import pytest

import benchsuite as bs
from benchsuite.models import Model, generate, load_pretrained, write_safetensors


def rel_err(got, want):
    return float(np.max(np.abs(np.asarray(got, np.float64) - want)) / np.max(np.abs(want)))


def test_configs_and_their_errors():
    assert bs.models.model_names()["llama-13b"] == "llama"
    c = bs.models.model_config("llama-7b", num_hidden_layers=2, num_key_value_heads=8)
    assert (c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"], c["num_key_value_heads"]) == \
        (4096, 11008, 2, 8)
    assert bs.models.model_config("gpt2")["parameter_count"] == 124_439_808  # GPT-2 124M, as Hugging Face counts
    assert bs.models.model_config("bert-base")["parameter_count"] == 109_482_240
    with pytest.raises(bs.InvalidArgumentError, match=r"unknown model 'gpt3' \(known: bert-base, bert-large, gpt2"):
        bs.models.model_config("gpt3")
    with pytest.raises(bs.InvalidArgumentError, match=r"unknown key 'layers' \(allowed: vocab_size, hidden_size"):
        bs.models.model_config("gpt2", layers=2)
    with pytest.raises(bs.InvalidArgumentError, match=r"hidden_size=100 must be a multiple of num_attention_heads=12"):
        bs.models.model_config("gpt2", hidden_size=100)
    with pytest.raises(bs.InvalidArgumentError, match=r"seq_len=2000 is above the model's maximum positions"):
        Model("gpt2", num_hidden_layers=1, seq_len=2000)


SMALL = {"vocab_size": 97, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 48, "max_position_embeddings": 64}


@pytest.mark.parametrize("name", ["bert-base", "gpt2", "llama-7b"])
def test_random_weights_are_deterministic_for_a_seed(rng, name):
    ids = rng.integers(0, 97, (2, 9))
    a = Model(name, batch=2, seq_len=9, seed=5, **SMALL)(ids)
    b = Model(name, batch=2, seq_len=9, seed=5, **SMALL)(ids)
    c = Model(name, batch=2, seq_len=9, seed=6, **SMALL)(ids)
    key = "last_hidden_state"
    np.testing.assert_array_equal(a[key], b[key])
    assert not np.allclose(a[key], c[key])
    assert np.isfinite(a[key]).all()


def test_kv_cache_decode_matches_the_full_forward(rng):
    ids = rng.integers(0, 97, (1, 12))
    full = Model("llama-7b", seq_len=12, seed=1, num_key_value_heads=2, **SMALL)(ids)["logits"]
    m = Model("llama-7b", seq_len=8, seed=1, kv_cache=True, num_key_value_heads=2, **SMALL)
    m.executor.reset_states()
    steps = [m(ids[:, :8], past_len=0)["logits"]]
    for t in range(8, 12):
        steps.append(m(ids[:, t:t + 1], past_len=t)["logits"])
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, rtol=1e-4, atol=1e-5)


def test_bad_checkpoints_are_one_clear_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_embd": 32, "n_layer": 1, "n_head": 4,
                                                      "vocab_size": 97, "n_positions": 64}))
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(bs.InvalidArgumentError, match=r"model.safetensors: not a readable safetensors file"):
        load_pretrained(tmp_path, seq_len=4)
    m = Model("gpt2", seq_len=4, vocab_size=97, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
              intermediate_size=128, max_position_embeddings=64)
    params = {p["name"]: np.zeros(p["shape"], np.float32) for p in m.graph.parameters}
    params["transformer.h.0.mlp.c_fc.weight"] = np.zeros((32, 100), np.float32)
    write_safetensors(tmp_path / "model.safetensors", params)
    with pytest.raises(bs.InvalidArgumentError,
                       match=r"'transformer.h.0.mlp.c_fc.weight' has shape \[32, 100\], the model expects \[32, 128\]"):
        load_pretrained(tmp_path, seq_len=4)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5"}))
    with pytest.raises(bs.InvalidArgumentError, match=r"model_type='t5' is not supported"):
        load_pretrained(tmp_path)


# ---- parity with Hugging Face ------------------------------------------------------------------
def hf_model(kind: str, seed: int = 0):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (test extra)")
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    if kind == "bert":
        cfg = transformers.BertConfig(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                      intermediate_size=48, max_position_embeddings=64)
        model = transformers.BertModel(cfg)
    elif kind == "gpt2":
        cfg = transformers.GPT2Config(vocab_size=97, n_embd=32, n_layer=2, n_head=4, n_positions=64)
        model = transformers.GPT2LMHeadModel(cfg)
    else:
        cfg = transformers.LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                                       rms_norm_eps=1e-6)
        model = transformers.LlamaForCausalLM(cfg)
    cfg._attn_implementation = "eager"
    with torch.no_grad():  # spread the weights so that norms, biases and logits all matter
        for name, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * (0.3 if p.ndim == 2 else 0.5) + (1.0 if "norm" in name.lower() else 0.0))
    return model.eval(), torch


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama"])
def test_forward_matches_hugging_face(tmp_path, rng, kind):
    hf, torch = hf_model(kind)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    ids = rng.integers(0, 97, (2, 13))
    mask = np.ones((2, 13), np.float32)
    mask[1, 9:] = 0  # padding in the second row
    kwargs = {"attention_mask": torch.tensor(mask, dtype=torch.long)} if kind == "bert" else {}
    with torch.no_grad():
        ref = hf(torch.tensor(ids), output_hidden_states=True, **kwargs)
    ours = load_pretrained(tmp_path, batch=2, seq_len=13, padding_mask=kind == "bert")(
        ids, attention_mask=mask if kind == "bert" else None)
    hidden = ref.last_hidden_state if kind == "bert" else ref.hidden_states[-1]
    assert rel_err(ours["last_hidden_state"], hidden.numpy()) < 1e-4
    if kind == "bert":
        assert rel_err(ours["pooler_output"], ref.pooler_output.numpy()) < 1e-4
    else:
        assert rel_err(ours["logits"], ref.logits.numpy()) < 1e-4


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_greedy_generation_matches_hugging_face(tmp_path, rng, kind):
    hf, torch = hf_model(kind, seed=1)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    prompt = rng.integers(0, 97, (1, 6))
    prompt[0, 2] = 0  # the pad token id inside the prompt: a real token here
    hf.generation_config.eos_token_id = None  # LLaMA's EOS (2) would end or be suppressed; ours has no stop token
    with torch.no_grad():
        # an explicit mask: generate would otherwise take prompt tokens equal to pad_token_id for padding
        ref = hf.generate(torch.tensor(prompt), attention_mask=torch.ones(prompt.shape, dtype=torch.long),
                          max_new_tokens=32, do_sample=False, pad_token_id=0)[0, 6:].numpy()
    m = load_pretrained(tmp_path, seq_len=6, kv_cache=True, last_token_logits=True)
    got = generate(m, prompt, max_new_tokens=32)
    np.testing.assert_array_equal(got.tokens[0], ref)
    assert got.ttft_seconds > 0 and len(got.tpot_seconds) == 31
    kv_heads = 2 if kind == "llama" else 4
    assert got.kv_cache_bytes == 2 * 2 * 1 * kv_heads * 64 * 8 * 4  # layers x (k, v) x batch x heads x cap x dim x 4


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_batched_generation_with_left_padding(tmp_path, rng, kind):
    """Rows of different lengths, left-padded in one batch: each row generates what it does alone,
    and what Hugging Face's generate gives for the same padded batch."""
    hf, torch = hf_model(kind, seed=1)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    rows = [rng.integers(1, 97, n) for n in (7, 3, 5)]
    m = load_pretrained(tmp_path, batch=3, seq_len=7, kv_cache=True, last_token_logits=True, padding_mask=True)
    got = generate(m, rows, max_new_tokens=12)
    for i, row in enumerate(rows):
        alone = load_pretrained(tmp_path, seq_len=len(row), kv_cache=True, last_token_logits=True)
        np.testing.assert_array_equal(got.tokens[i], generate(alone, row[None, :], max_new_tokens=12).tokens[0])
    ids = np.zeros((3, 7), np.int64)
    mask = np.zeros((3, 7), np.int64)
    for i, row in enumerate(rows):
        ids[i, 7 - len(row):], mask[i, 7 - len(row):] = row, 1
    hf.generation_config.eos_token_id = None
    with torch.no_grad():
        ref = hf.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=12, do_sample=False,
                          pad_token_id=0)[:, 7:].numpy()
    np.testing.assert_array_equal(got.tokens, ref)
    with pytest.raises(bs.InvalidArgumentError, match=r"padding after a real token: pad on the left"):
        generate(m, ids, attention_mask=mask[:, ::-1], max_new_tokens=2)
    unpadded = load_pretrained(tmp_path, batch=3, seq_len=7, kv_cache=True, last_token_logits=True)
    with pytest.raises(bs.InvalidArgumentError, match=r"build the model with kv_cache=True and padding_mask=True"):
        generate(unpadded, rows, max_new_tokens=2)


@pytest.mark.parametrize("name", ["gpt2", "llama-7b", "bert-base"])
def test_models_run_on_cuda_as_on_the_cpu(rng, name):
    """The same graph and weights on CUDA (a GPU, or the emulator build): every output as on the
    CPU, and greedy generation the same tokens."""
    from conftest import CUDA, CUDA_REASON
    if not CUDA:
        pytest.skip(f"no_cuda: {CUDA_REASON}")
    extra = {"num_key_value_heads": 2} if name.startswith("llama") else {}
    cpu = Model(name, seq_len=6, seed=3, **SMALL, **extra)
    gpu = Model(name, seq_len=6, seed=3, device="cuda", **SMALL, **extra)
    ids = rng.integers(0, 97, (1, 6))
    want, got = cpu(ids), gpu(ids)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-4 * float(np.abs(want[key]).max()))
    if name != "bert-base":
        cached = {k: Model(name, seq_len=6, seed=3, kv_cache=True, last_token_logits=True, device=d, **SMALL, **extra)
                  for k, d in (("cpu", "cpu"), ("cuda", "cuda"))}
        a, b = (generate(cached[k], ids, max_new_tokens=8).tokens for k in ("cpu", "cuda"))
        np.testing.assert_array_equal(a, b)


def test_sampling_is_deterministic_for_a_seed_and_respects_top_k(rng):
    m = Model("gpt2", seq_len=5, kv_cache=True, last_token_logits=True, seed=2, **SMALL)
    prompt = rng.integers(0, 97, (1, 5))
    a = generate(m, prompt, 10, temperature=1.0, top_p=0.9, seed=7).tokens
    b = generate(m, prompt, 10, temperature=1.0, top_p=0.9, seed=7).tokens
    np.testing.assert_array_equal(a, b)
    from benchsuite.models.generation import sample_tokens
    near = np.full((1, 50), -2.0, np.float32)
    near[0, [7, 19, 33]] = [3.0, 2.9, 2.8]  # three near-equal favourites above 47 others
    picks = {sample_tokens(near, 1.0, top_k=3, seed=s)[0] for s in range(60)}
    assert picks == {7, 19, 33}  # top_k=3 draws the three, never the rest
    logits = rng.standard_normal((4, 50)).astype(np.float32)
    assert sample_tokens(logits) == np.argmax(logits, axis=1).tolist()
    nucleus = sample_tokens(logits, 1.0, top_p=1e-9, seed=3)  # the smallest set: the argmax alone
    assert nucleus == np.argmax(logits, axis=1).tolist()
    with pytest.raises(bs.InvalidArgumentError, match=r"top_p=1.5 must be in \(0, 1\]"):
        sample_tokens(logits, 1.0, top_p=1.5)
    stop = int(a[0, 2])
    c = generate(m, prompt, 10, temperature=1.0, top_p=0.9, seed=7, stop_tokens=[stop])
    assert c.tokens.shape[1] <= 3 and c.stopped == [True]


def test_model_cases_report_phases_metrics_and_a_models_section():
    from benchsuite.analysis.report import build_report, render_html, render_markdown
    from benchsuite.analysis.report import plots as report_plots
    from benchsuite.core.results import RunResults

    from run_builders import run as run_doc
    quick = bs.HarnessSettings(warmup=1, min_samples=3, max_samples=5, min_time=0.0, max_noise=None, timeout=30)
    small = dict(model="gpt2", layers=1)
    records = []
    for seq_len in (8, 16):
        r = bs.measure("model_forward", seq_len=seq_len, settings=quick, **small)
        assert r.status in ("ok", "invalid"), r.error
        assert r.metrics["correctness"]["passed"]  # against the graph on every op's reference version
        assert set(r.phases) >= {"build_s", "compile_s", "first_call_s"} and r.config["full_num_hidden_layers"] == 12
        reported = r.metrics["reported"]
        assert reported["full_model_extrapolated_s"]["description"].startswith("extrapolated, not measured")
        assert reported["per_layer_s"]["value"] > 0
        records.append(r.to_dict())
    g = bs.measure("model_generate", model="gpt2", layers=1, prompt_len=4, new_tokens=3, settings=quick)
    assert g.status in ("ok", "invalid"), g.error
    rep = g.metrics["reported"]
    assert rep["ttft_s"]["value"] > 0 and rep["decode_tokens_per_s"]["value"] > 0
    assert rep["kv_cache_bytes"]["value"] == 2 * 1 * 12 * 7 * 64 * 4  # k, v x batch x heads x (4 + 3) x dim x 4
    records.append(g.to_dict())
    too_big = bs.measure("model_forward", model="llama-13b", batch=64, seq_len=4096, settings=quick)
    assert too_big.status == "skipped" and too_big.reason == "oom"  # refused before allocating
    report = build_report([RunResults(path=None, doc=run_doc(*records))])
    md = render_markdown(report)
    assert "## Models" in md and "### gpt2" in md and "1/12" in md
    assert "full model ms (extrapolated)" in render_html(report, plots=[])
    assert [p.id for p in report_plots._model_plots(report)] == ["models-seq"]
