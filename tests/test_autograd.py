"""Reverse-mode differentiation over the graph: every differentiable node kind's gradient
against central finite differences of its forward (run on the reference op versions) on tiny
shapes, and a whole GPT-2 / BERT / LLaMA loss against PyTorch autograd with the same weights."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs
from benchsuite.models import Builder, Executor, backward, random_parameters

# Every op's reference version: double accumulation, so the finite differences are not noise.
REFERENCE = {v["op"]: v["version"] for v in bs.ops.versions() if v["reference"] and v["device"] == "cpu"}


def check_gradients(build, inputs: dict, rng, h=None, tol=None, floor=None, constants=(), dtype="float32"):
    """build(b, values) -> the output; checks d sum(out * R) / d (every float input and parameter
    but the inputs named in `constants`, such as a mask). floor: the gradient norm below which
    errors are measured absolutely. dtype="float64": the graph, its parameters and its float
    inputs in float64 (every op on its reference version in double), so central differences with
    h = 1e-6 resolve gradients to ~1e-9 and the tolerance is 1e-6; float32 differences need h ~
    1e-2 and cannot resolve gradients under ~1e-5 (the objective's rounding over 2h)."""
    f64 = dtype == "float64"
    h = h if h is not None else (1e-6 if f64 else 1e-2)
    tol = tol if tol is not None else (1e-6 if f64 else 2e-2)
    floor = floor if floor is not None else (1e-9 if f64 else 1e-6)
    if f64:
        inputs = {k: v.astype(np.float64) if v.dtype == np.float32 and k not in constants else v
                  for k, v in inputs.items()}
    b = Builder(dtype)
    values = {name: b.input(name, list(x.shape), str(x.dtype)) for name, x in inputs.items()}
    out = build(b, values)
    b.output(out, "y")
    g = b.finish()
    params = {k: np.asarray(v) for k, v in random_parameters(g, b.inits, 1).items()}
    params = {k: (v + rng.standard_normal(v.shape).astype(v.dtype) * 0.3) for k, v in params.items()}
    params = {k: np.abs(v) + 0.5 if k.endswith("running_var") else v for k, v in params.items()}
    # Buffers (batch norm's running statistics) are parameters that take no gradient.
    wrt = [n for n, x in inputs.items() if x.dtype == np.dtype(dtype) and n not in constants] + \
        [k for k in params if ".running_" not in k]
    info = backward(g, out, wrt)
    ex = Executor(g, params, versions=REFERENCE)
    y_shape = ex.run([*inputs.values(), np.zeros(b.shape(out), dtype)])[0].shape
    weights = rng.standard_normal(y_shape).astype(dtype)
    outs = ex.run([*inputs.values(), weights])
    grads = dict(zip(info["gradients"], outs[1:]))

    def objective(feeds, p=None):
        if p is not None:
            for k, v in p.items():
                ex.set_parameter(k, v)
        y = ex.run([*feeds.values(), weights])[0]
        return float(np.sum(y.astype(np.float64) * weights))

    assert sorted(grads) == sorted(f"grad:{n}" for n in wrt) or sorted(grads) == sorted(wrt), (grads.keys(), wrt)
    grads = {k.removeprefix("grad:"): v for k, v in grads.items()}
    for name in wrt:
        base = dict(inputs) if name in inputs else dict(params)
        x = base[name]
        numeric = np.zeros(x.shape, np.float64)
        for idx in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[idx] += h
            down[idx] -= h
            if name in inputs:
                numeric[idx] = (objective({**inputs, name: up}) - objective({**inputs, name: down})) / (2 * h)
            else:
                numeric[idx] = (objective(inputs, {name: up}) - objective(inputs, {name: down})) / (2 * h)
                ex.set_parameter(name, x)
        got = grads[name].astype(np.float64)
        err = np.linalg.norm(got - numeric) / max(np.linalg.norm(numeric), floor)
        assert err < tol, f"{name}: relative error {err:.3g}\n{got}\n{numeric}"
    return grads


def x_(rng, *shape):
    return (rng.standard_normal(shape) * 0.8).astype(np.float32)


@pytest.mark.parametrize("in_out", [False, True])
def test_linear(rng, in_out):
    check_gradients(lambda b, v: b.linear(v["x"], 3, "fc", in_out=in_out), {"x": x_(rng, 2, 3, 4)}, rng,
                    dtype="float64")


def test_matmul_shared_and_batched(rng):
    check_gradients(lambda b, v: b.matmul(v["a"], v["w"]), {"a": x_(rng, 2, 3, 4), "w": x_(rng, 4, 5)}, rng,
                    dtype="float64")
    check_gradients(lambda b, v: b.matmul(v["a"], v["c"]), {"a": x_(rng, 2, 3, 4), "c": x_(rng, 2, 4, 2)}, rng,
                    dtype="float64")


@pytest.mark.parametrize("op", ["add", "mul"])
def test_binary_with_row_broadcast(rng, op):
    check_gradients(lambda b, v: b.node(op, [v["a"], v["r"]])[0], {"a": x_(rng, 3, 5), "r": x_(rng, 5)}, rng,
                    dtype="float64")
    check_gradients(lambda b, v: b.node(op, [v["a"], v["c"]])[0], {"a": x_(rng, 3, 5), "c": x_(rng, 3, 5)}, rng,
                    dtype="float64")


@pytest.mark.parametrize("op", ["gelu", "gelu_erf", "silu", "tanh", "softmax", "relu", "sigmoid"])
def test_activations(rng, op):
    x = x_(rng, 3, 7)
    x[np.abs(x) < 0.05] += 0.2  # relu: keep the finite differences off its kink
    check_gradients(lambda b, v: b.node(op, [v["x"]])[0], {"x": x}, rng, dtype="float64")


def test_norms(rng):
    check_gradients(lambda b, v: b.layernorm(v["x"], "ln"), {"x": x_(rng, 3, 6)}, rng, dtype="float64")
    check_gradients(lambda b, v: b.rmsnorm(v["x"], "rms"), {"x": x_(rng, 3, 6)}, rng, dtype="float64")


def test_channel_norms(rng):
    from benchsuite.models import layers
    check_gradients(lambda b, v: layers.group_norm(b, v["x"], 2, "gn"), {"x": x_(rng, 2, 4, 3)}, rng, dtype="float64")
    check_gradients(lambda b, v: layers.batch_norm(b, v["x"], "bn", training=True), {"x": x_(rng, 3, 2, 2, 2)}, rng,
                    dtype="float64")
    check_gradients(lambda b, v: layers.batch_norm(b, v["x"], "bn", training=False), {"x": x_(rng, 2, 3, 2)}, rng,
                    dtype="float64")


def test_conv_pool_kinds(rng):
    from benchsuite.models import layers
    check_gradients(lambda b, v: layers.conv2d(b, v["x"], 2, (2, 3), "conv", stride=(1, 2), padding=1),
                    {"x": x_(rng, 2, 2, 4, 5)}, rng, dtype="float64")
    check_gradients(lambda b, v: layers.conv1d(b, v["x"], 3, 3, "conv", padding=2, dilation=2),
                    {"x": x_(rng, 1, 2, 6)}, rng, dtype="float64")
    check_gradients(lambda b, v: layers.avg_pool2d(b, v["x"], 3, 2, 1), {"x": x_(rng, 1, 2, 5, 5)}, rng,
                    dtype="float64")
    x = rng.permutation(50).reshape(1, 2, 5, 5).astype(np.float32) * 0.1  # distinct values: no ties at +-h
    check_gradients(lambda b, v: layers.max_pool2d(b, v["x"], 2, 2, 1), {"x": x}, rng, dtype="float64")
    cols = x_(rng, 1, 6, 8)  # fold's own gradient (unfold), through a graph that starts at cols
    check_gradients(lambda b, v: b.node("fold", [v["c"]], {"kernel": [2, 2], "stride": [1, 1], "size": [2, 3, 4]})[0],
                    {"c": cols}, rng, dtype="float64")


def test_dropout_axpy_and_recurrent(rng):
    from benchsuite.models import layers
    check_gradients(lambda b, v: layers.dropout(b, v["x"], 0.4, seed=7), {"x": x_(rng, 4, 5)}, rng, dtype="float64")
    check_gradients(lambda b, v: b.node("axpy", [v["x"], v["y"]], {"alpha": -1.0})[0],
                    {"x": x_(rng, 3, 4), "y": x_(rng, 3, 4)}, rng, dtype="float64")
    check_gradients(lambda b, v: layers.lstm(b, v["x"], 3, "lstm", layers=2)[0], {"x": x_(rng, 2, 3, 2)}, rng,
                    dtype="float64")
    check_gradients(lambda b, v: layers.gru(b, v["x"], 3, "gru")[1], {"x": x_(rng, 2, 3, 2)}, rng, dtype="float64")


def test_mixture_of_experts(rng):
    from benchsuite.models import layers
    x = x_(rng, 6, 4)
    # Every MoE op on its float64 reference: h = 1e-6 moves no router logit across a tie.
    check_gradients(lambda b, v: layers.moe(b, v["x"], 3, 2, 5, "moe"), {"x": x}, rng, dtype="float64")


def test_mamba_block(rng):
    from benchsuite.models import layers
    # dt_proj's gradient is ~1e-5 here; float64 differences resolve ~1e-11 absolute, so tiny
    # gradients are judged absolutely (floor) and every other one relatively, at 1e-6.
    check_gradients(lambda b, v: layers.mamba(b, v["x"], "mixer", intermediate=3, state=2, conv_kernel=3),
                    {"x": x_(rng, 1, 4, 4)}, rng, dtype="float64", floor=1e-4)


def test_mamba_ssm_node(rng):
    # The SSM core alone, every input differentiated: dt around 0 so softplus is curved, A_log
    # small so the decays stay in (0, 1).
    names = ["x", "dt", "A_log", "B", "C", "D"]
    shapes = [(2, 4, 3), (2, 4, 3), (3, 2), (2, 4, 2), (2, 4, 2), (3,)]
    inputs = {n: x_(rng, *s) for n, s in zip(names, shapes)}
    check_gradients(lambda b, v: b.node("mamba_ssm", [v[n] for n in names])[0], inputs, rng, dtype="float64")


def test_shape_kinds(rng):
    def build(b, v):
        h = b.permute(b.reshape(v["x"], [0, 2, 3]), [0, 2, 1])          # [2, 3, 2]
        parts = [b.slice(h, 1, 0, 1), b.slice(h, 1, 1, 3)]
        return b.mul(b.concat(parts[::-1], 1), b.node("transpose", [b.node("transpose", [h])[0]])[0])
    check_gradients(build, {"x": x_(rng, 2, 6)}, rng, dtype="float64")


def test_embedding_positions_rope_and_attention(rng):
    ids = rng.integers(0, 5, (2, 4))

    def build(b, v):
        h = b.add(b.embedding(v["ids"], 5, 8, "wte.weight"), b.positions(v["ids"], 6, 8, "wpe.weight"))
        q = b.permute(b.rope(b.reshape(h, [0, 0, 2, 4])), [0, 2, 1, 3])
        k = b.permute(b.reshape(b.linear(h, 8, "k", bias=False), [0, 0, 2, 4]), [0, 2, 1, 3])
        return b.attention(q, k, b.permute(b.reshape(h, [0, 0, 2, 4]), [0, 2, 1, 3]), causal=True)
    check_gradients(build, {"ids": ids}, rng, dtype="float64")


def test_cross_entropy_and_errors(rng):
    targets = rng.integers(0, 7, 5)
    check_gradients(lambda b, v: b.node("cross_entropy", [v["logits"], v["t"]])[0],
                    {"logits": x_(rng, 5, 7), "t": targets}, rng, dtype="float64")
    m = bs.models.Model("gpt2", seq_len=3, kv_cache=True, num_hidden_layers=1, hidden_size=8, num_attention_heads=2,
                        vocab_size=11, max_position_embeddings=8)
    with pytest.raises(bs.InvalidArgumentError, match=r"reads a KV cache .* build the model without kv_cache"):
        backward(m.graph, m.graph.find("lm_head"), ["transformer.wte.weight"])


@pytest.mark.parametrize("kv_heads,causal,window,kv_len", [(2, False, 0, 5), (1, True, 2, 3), (2, True, 0, 4),
                                                          (2, False, 3, 3)])
def test_masked_windowed_and_cross_attention(rng, kv_heads, causal, window, kv_len):
    """The attention_kv_backward path: a padding mask (one batch row's keys all masked: zero
    gradients), sliding windows, queries and keys of different lengths, grouped heads."""
    mask = (rng.random((2, kv_len)) > 0.3).astype(np.float32)
    mask[:, 0] = 1
    mask[1, -1] = 0
    check_gradients(lambda b, v: b.attention(v["q"], v["k"], v["v"], causal=causal, window=window,
                                             key_mask=v["mask"]),
                    {"q": x_(rng, 2, 4, 3, 4), "k": x_(rng, 2, kv_heads, kv_len, 4),
                     "v": x_(rng, 2, kv_heads, kv_len, 4), "mask": mask}, rng, constants=("mask",), dtype="float64")


@pytest.mark.parametrize("kv_heads", [1, 2])
def test_grouped_query_attention(rng, kv_heads):
    """GQA / MQA: four query heads over kv_heads key/value heads, causal."""
    check_gradients(lambda b, v: b.attention(v["q"], v["k"], v["v"], causal=True),
                    {"q": x_(rng, 2, 4, 3, 4), "k": x_(rng, 2, kv_heads, 3, 4), "v": x_(rng, 2, kv_heads, 3, 4)}, rng,
                    dtype="float64")


# ---- whole models against PyTorch autograd ------------------------------------------------------
@pytest.mark.parametrize("kind,padded", [("gpt2", False), ("llama", False), ("bert", False), ("bert", True),
                                         ("gpt2", True), ("llama", True)])
def test_model_gradients_match_pytorch(tmp_path, rng, kind, padded):
    """padded: built with padding_mask=True, row 1's last three tokens padding (right
    padding: every query still sees a real key, as in transformers' additive mask)."""
    from test_models import hf_model
    hf, torch = hf_model(kind)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    m = bs.models.load_pretrained(tmp_path, batch=2, seq_len=9, padding_mask=padded)
    attention_mask = np.ones((2, 9), np.float32)
    attention_mask[1, -3:] = 0
    ids = rng.integers(0, 97, (2, 9))
    ids[0, 0] = 0  # BERT's pad token: its embedding row gets no gradient there (padding_idx)
    g = m.graph
    out = g.find("lm_head") if kind != "bert" else g.find("encoder.layer.1.output.LayerNorm.0")
    width = 97 if kind != "bert" else 32
    flat = g.add_node("reshape", [out], {"shape": [-1, width]}, "flat")[0]
    targets = g.add_input("targets", [18], "int64")
    loss = g.add_node("cross_entropy", [flat, targets], {}, "loss")[0]
    names = [p["name"] for p in g.parameters]
    info = backward(g, loss, names)
    ex = Executor(g, _params(tmp_path, m))
    t = rng.integers(0, width, 18)
    feeds = m.inputs_for(ids, attention_mask=attention_mask if padded else None) + [t, np.ones((), np.float32)]
    outs = ex.run(feeds)
    grads = dict(zip(info["gradients"], outs[len(g.outputs) - len(info["gradients"]):]))
    hf.zero_grad()
    kw = {"output_hidden_states": True}
    if padded:
        kw["attention_mask"] = torch.tensor(attention_mask, dtype=torch.int64)
    res = hf(torch.tensor(ids), **kw)
    logits = res.logits if kind != "bert" else res.last_hidden_state
    torch.nn.functional.cross_entropy(logits.reshape(-1, width), torch.tensor(t)).backward()
    checked, errors = 0, {}
    typical = float(np.median([np.linalg.norm(p.grad.numpy()) for _, p in hf.named_parameters()
                               if p.grad is not None]))
    for name, p in hf.named_parameters():
        if p.grad is None or name not in grads:
            continue
        want = p.grad.numpy()
        got = grads[name]
        if name.endswith("attention.self.key.bias"):
            # zero in exact arithmetic (softmax ignores a shift shared by every key): both sides
            # hold float32 rounding noise (here ~3e-7 of the model's typical gradient)
            assert np.linalg.norm(got) < 1e-5 * typical, (name, np.linalg.norm(got), typical)
            checked += 1
            continue
        err = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-3 * typical)
        errors[name] = err
        checked += 1
    bad = {k: f"{v:.3g}" for k, v in errors.items() if not v < 1e-3}
    assert not bad, bad
    assert checked >= len(grads) - 2  # every parameter but a tied LM head / unused pooler


def _params(path, model):
    from benchsuite.models.weights import _parameters_from_checkpoint, read_safetensors
    tensors = {}
    for f in sorted(path.glob("*.safetensors")):
        tensors.update(read_safetensors(f))
    return _parameters_from_checkpoint(tensors, model.family, bool(model.config["tie_word_embeddings"]))
