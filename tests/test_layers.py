"""The builder's composite layers and the ops under them against PyTorch with the same
weights: convolutions (unfold + linear), pooling, batch and group norm, LSTM and GRU
(outputs, final states and every gradient), plus dropout's reproducibility and statistics
and the sinusoidal position table. Awkward shapes throughout (odd sizes, padding, dilation,
strides that do not divide)."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs
from benchsuite.models import Builder, Executor, backward, layers, random_parameters

torch = pytest.importorskip("torch", reason="torch is not installed (test extra): the layers' reference")
F = torch.nn.functional


def run_layer(build, x: np.ndarray, rng, params=None, grads=False, device="cpu", weights=None, scalars=None):
    """Builds out = build(b, x_value) (a value or a tuple of values), runs it on x with random
    (or given) parameters on `device`; with grads, also d sum(out[0] * W) / d(x and every
    parameter) (W random, or `weights`)."""
    b = Builder()
    xv = b.input("x", list(x.shape), "float32")
    outs = build(b, xv)
    outs = outs if isinstance(outs, tuple) else (outs,)
    for i, v in enumerate(outs):
        b.output(v, f"out{i}")
    g = b.finish()
    if params is None:
        params = {k: np.asarray(v) for k, v in random_parameters(g, b.inits, 3).items()}
        params = {k: v + (0.2 * rng.standard_normal(v.shape)).astype(np.float32) for k, v in params.items()}
        params = {k: np.abs(v) + 0.5 if k.endswith("running_var") else v for k, v in params.items()}
    feeds = [x]
    if grads:
        info = backward(g, outs[0], ["x"] + [k for k in params if ".running_" not in k])
        if weights is None:
            weights = rng.standard_normal(b.shape(outs[0])).astype(np.float32)
        feeds.append(weights)
    res = Executor(g, params, device=device).run(feeds, scalars)
    got = res[:len(outs)]
    if not grads:
        return got, params
    return got, params, dict(zip(info["gradients"], res[len(outs):])), weights


def torch_grads(module_out, inputs: dict, weights):
    (module_out * torch.from_numpy(weights)).sum().backward()
    return {k: t.grad.numpy() for k, t in inputs.items()}


def close(a, b, tol=2e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.abs(b).max()))
    assert np.abs(a - b).max() <= tol * scale, float(np.abs(a - b).max())


# ---- ops ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel,stride,padding,dilation", [((3, 3), 1, 1, 1), ((2, 3), (2, 1), (0, 2), (1, 2)),
                                                            ((1, 1), 1, 0, 1), ((3, 2), 3, 1, 2)])
def test_unfold_and_fold_match_torch(rng, kernel, stride, padding, dilation):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    cols = np.asarray(bs._core.unfold(x, kernel, stride, padding, dilation))
    ref = F.unfold(torch.from_numpy(x), kernel, dilation=dilation, padding=padding, stride=stride)
    close(cols, ref.transpose(1, 2).numpy(), 0)
    folded = np.asarray(bs._core.fold(cols, 3, 7, 6, kernel, stride, padding, dilation))
    ref_fold = F.fold(ref, (7, 6), kernel, dilation=dilation, padding=padding, stride=stride)
    close(folded, ref_fold.numpy())


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1))])
def test_pools_and_their_backwards_match_torch(rng, kernel, stride, padding):
    x = rng.standard_normal((2, 3, 7, 9)).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    y, idx = bs._core.max_pool2d(x, kernel, stride, padding)
    ry, ridx = F.max_pool2d(tx, kernel, stride, padding, return_indices=True)
    close(y, ry.detach().numpy(), 0)
    np.testing.assert_array_equal(np.asarray(idx), ridx.numpy())
    dy = rng.standard_normal(ry.shape).astype(np.float32)
    (ry * torch.from_numpy(dy)).sum().backward()
    close(bs._core.max_pool2d_backward(dy, idx, 7, 9), tx.grad.numpy())
    tx.grad = None
    a = F.avg_pool2d(tx, kernel, stride, padding)
    close(bs._core.avg_pool2d(x, kernel, stride, padding), a.detach().numpy())
    (a * torch.from_numpy(dy)).sum().backward()
    close(bs._core.avg_pool2d_backward(dy, 7, 9, kernel, stride, padding), tx.grad.numpy())


def test_max_pool_nan_wins_and_bad_windows_are_named(rng):
    x = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    x[0, 0, 1, 2] = np.nan
    y, _ = bs._core.max_pool2d(x, 2)
    assert np.isnan(np.asarray(y)[0, 0, 0, 1]) and not np.isnan(np.asarray(y)[0, 0, 1, 0])
    with pytest.raises(bs.InvalidArgumentError, match=r"unfold: the window .* is larger than the input 4x4"):
        bs._core.unfold(x, 5)
    with pytest.raises(bs.InvalidArgumentError, match=r"stride=\(0, 0\) must be >= 1"):
        bs._core.max_pool2d(x, 2, 0)
    with pytest.raises(bs.InvalidArgumentError, match=r"kernel=\(1, 2, 3\) must be an int or a pair of ints"):
        bs._core.unfold(x, (1, 2, 3))


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 3, 2), 1), ((2, 8), 2)])
def test_group_norm_matches_torch(rng, shape, groups):
    # Groups of at least four values: with one, y = beta exactly; with two, dx is exactly zero,
    # and either way only rounding is left to compare. The reference runs in float64.
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    gamma, beta = rng.standard_normal(shape[1]).astype(np.float32), rng.standard_normal(shape[1]).astype(np.float32)
    tx, tg, tb = (torch.from_numpy(a.astype(np.float64)).requires_grad_() for a in (x, gamma, beta))
    ref = F.group_norm(tx, groups, tg, tb, 1e-5)
    y, mean, rstd = bs._core.group_norm(x, gamma, beta, groups)
    close(y, ref.detach().numpy())
    dy = rng.standard_normal(shape).astype(np.float32)
    (ref * torch.from_numpy(dy.astype(np.float64))).sum().backward()
    dx, dg, db = bs._core.group_norm_backward(dy, x, gamma, mean, rstd, groups)
    close(dx, tx.grad.numpy(), 1e-4)
    close(dg, tg.grad.numpy(), 1e-4)
    close(db, tb.grad.numpy(), 1e-4)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(rng, training):
    x = (rng.standard_normal((5, 3, 4, 3)) * 2 - 1).astype(np.float32)
    gamma, beta = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    rm, rv = rng.standard_normal(3).astype(np.float32), (rng.random(3) + 0.5).astype(np.float32)
    tx, tg, tb = (torch.from_numpy(a.astype(np.float64)).requires_grad_() for a in (x, gamma, beta))
    ref = F.batch_norm(tx, torch.from_numpy(rm.astype(np.float64)), torch.from_numpy(rv.astype(np.float64)), tg, tb,
                       training, 0.1, 1e-5)
    y, mean, rstd = bs._core.batch_norm(x, gamma, beta, rm, rv, training)
    close(y, ref.detach().numpy(), 5e-5)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    (ref * torch.from_numpy(dy.astype(np.float64))).sum().backward()
    for got, want in zip(bs._core.batch_norm_backward(dy, x, gamma, mean, rstd, training),
                         (tx.grad, tg.grad, tb.grad)):
        close(got, want.numpy(), 1e-4)
    with pytest.raises(bs.InvalidArgumentError, match=r"batch_norm: running_mean is required"):
        bs._core.batch_norm(x, gamma, beta, None, None, False)


def test_dropout_is_reproducible_unbiased_and_its_own_backward(rng):
    x = rng.standard_normal((64, 257)).astype(np.float32)
    y1 = np.asarray(bs._core.dropout(x, 0.3, 11))
    np.testing.assert_array_equal(y1, np.asarray(bs._core.dropout(x, 0.3, 11, "v1")))  # v1 == v2, bit for bit
    assert not np.array_equal(y1, np.asarray(bs._core.dropout(x, 0.3, 12)))
    kept = y1 != 0
    assert abs(kept.mean() - 0.7) < 0.02  # 16448 draws: 4.5 sigma is 0.016
    np.testing.assert_allclose(y1[kept], x[kept] / 0.7, rtol=1e-6)
    # The backward is the same mask: dropout(dy) zeroes exactly where the forward did.
    dy = np.ones_like(x)
    np.testing.assert_array_equal(np.asarray(bs._core.dropout(dy, 0.3, 11)) != 0, kept)
    np.testing.assert_array_equal(np.asarray(bs._core.dropout(x, 0.0, 5)), x)
    with pytest.raises(bs.InvalidArgumentError, match=r"dropout: p=1 must be in \[0, 1\)"):
        bs._core.dropout(x, 1.0, 0)


def test_dropout_layer_steps_draw_new_masks_and_reruns_the_same(rng):
    b = Builder()
    x = b.input("x", [8, 16], "float32")
    b.output(layers.dropout(b, x, 0.5, seed=3, step_scalar="step"), "y")
    ex = Executor(b.finish(), {})
    feed = np.ones((8, 16), np.float32)
    s0, s1, s0_again = (ex.run([feed], {"step": s})[0] for s in (0, 1, 0))
    np.testing.assert_array_equal(s0, s0_again)
    assert not np.array_equal(s0, s1)


def test_sinusoidal_positions_table(rng):
    table = np.asarray(bs._core.sinusoidal_positions(9, 7, 10000.0, 3))
    pos = np.arange(3, 12)[:, None].astype(np.float64)
    angle = pos / np.power(10000.0, 2 * (np.arange(7) // 2) / 7)[None, :]
    want = np.where(np.arange(7) % 2 == 0, np.sin(angle), np.cos(angle))
    np.testing.assert_allclose(table, want, atol=1e-6)
    b = Builder()
    ids = b.input("ids", [2, 9], "int64")
    b.output(layers.sinusoidal_positions(b, ids, 7, offset_scalar="past"), "p")
    out = Executor(b.finish(), {}).run([np.zeros((2, 9), np.int64)], {"past": 3})[0]
    np.testing.assert_allclose(out, np.stack([want, want]), atol=1e-6)


# ---- layers against torch modules, forward and gradients -------------------------------------------
@pytest.mark.parametrize("kernel,stride,padding,dilation,bias",
                         [(3, 1, 1, 1, True), ((2, 3), (2, 1), (1, 0), (1, 2), False), (1, 2, 0, 1, True)])
def test_conv2d_layer_matches_torch(rng, kernel, stride, padding, dilation, bias):
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    (y,), p, grads, w = run_layer(lambda b, v: layers.conv2d(b, v, 5, kernel, "conv", stride, padding, dilation, bias),
                                  x, rng, grads=True)
    conv = torch.nn.Conv2d(3, 5, kernel, stride, padding, dilation, bias=bias)
    conv.load_state_dict({k.removeprefix("conv."): torch.from_numpy(v) for k, v in p.items()})
    tx = torch.from_numpy(x).requires_grad_()
    ref = conv(tx)
    close(y, ref.detach().numpy())
    want = torch_grads(ref, {"x": tx, "conv.weight": conv.weight, **({"conv.bias": conv.bias} if bias else {})}, w)
    for k, v in want.items():
        close(grads[k], v, 1e-4)


def test_conv1d_layer_matches_torch(rng):
    x = rng.standard_normal((3, 4, 11)).astype(np.float32)
    (y,), p = run_layer(lambda b, v: layers.conv1d(b, v, 6, 4, "c", stride=2, padding=3, dilation=2), x, rng)
    conv = torch.nn.Conv1d(4, 6, 4, stride=2, padding=3, dilation=2)
    conv.load_state_dict({k.removeprefix("c."): torch.from_numpy(v) for k, v in p.items()})
    close(y, conv(torch.from_numpy(x)).detach().numpy())


def test_cnn_block_matches_torch(rng):
    """conv -> batch norm (inference) -> relu -> max pool -> group norm -> avg pool, as one graph."""
    x = rng.standard_normal((2, 3, 12, 10)).astype(np.float32)

    def build(b, v):
        h = layers.conv2d(b, v, 8, 3, "conv", padding=1)
        h = b.relu(layers.batch_norm(b, h, "bn"))
        h = layers.group_norm(b, layers.max_pool2d(b, h, 2), 4, "gn")
        return layers.avg_pool2d(b, h, 3, 2, 1)
    (y,), p = run_layer(build, x, rng)
    m = torch.nn.Sequential()
    m.add_module("conv", torch.nn.Conv2d(3, 8, 3, padding=1))
    m.add_module("bn", torch.nn.BatchNorm2d(8))
    m.add_module("relu", torch.nn.ReLU())
    m.add_module("pool", torch.nn.MaxPool2d(2))
    m.add_module("gn", torch.nn.GroupNorm(4, 8))
    m.add_module("avg", torch.nn.AvgPool2d(3, 2, 1))
    m.load_state_dict({k: torch.from_numpy(v) for k, v in p.items()}, strict=False)
    close(y, m.eval()(torch.from_numpy(x)).detach().numpy(), 5e-5)


@pytest.mark.parametrize("kind,layers_", [("lstm", 1), ("lstm", 2), ("gru", 1), ("gru", 2)])
def test_recurrent_layers_match_torch(rng, kind, layers_):
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    build = (lambda b, v: layers.lstm(b, v, 6, "rnn", layers_)) if kind == "lstm" else \
        (lambda b, v: layers.gru(b, v, 6, "rnn", layers_))
    outs, p, grads, w = run_layer(build, x, rng, grads=True)
    module = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(4, 6, num_layers=layers_, batch_first=True)
    module.load_state_dict({k.removeprefix("rnn."): torch.from_numpy(v) for k, v in p.items()})
    tx = torch.from_numpy(x).requires_grad_()
    ref, state = module(tx)
    close(outs[0], ref.detach().numpy())
    states = state if kind == "lstm" else (state,)
    for got, want in zip(outs[1:], states):
        close(got, want.detach().numpy())
    want = torch_grads(ref, {"x": tx, **{"rnn." + k: t for k, t in module.named_parameters()}}, w)
    for k, v in want.items():
        close(grads[k], v, 1e-4)


def test_mlp_and_swiglu_match_torch(rng):
    x = rng.standard_normal((2, 3, 8)).astype(np.float32)
    (y,), p = run_layer(lambda b, v: layers.swiglu(b, v, 12, "mlp"), x, rng)
    t = {k: torch.from_numpy(v) for k, v in p.items()}
    tx = torch.from_numpy(x)
    want = (F.silu(tx @ t["mlp.gate_proj.weight"].T) * (tx @ t["mlp.up_proj.weight"].T)) @ t["mlp.down_proj.weight"].T
    close(y, want.numpy())
    (y,), p = run_layer(lambda b, v: layers.mlp(b, v, 12, "gelu_erf", "ffn"), x, rng)
    t = {k: torch.from_numpy(v) for k, v in p.items()}
    want = F.linear(F.gelu(F.linear(tx, t["ffn.fc1.weight"], t["ffn.fc1.bias"])), t["ffn.fc2.weight"], t["ffn.fc2.bias"])
    close(y, want.numpy())


def test_layer_errors_name_the_layer():
    b = Builder()
    x = b.input("x", [2, 3, 4], "float32")
    with pytest.raises(bs.InvalidArgumentError, match=r"conv: x is \[2, 3, 4\], must be \[N, C, H, W\]"):
        layers.conv2d(b, x, 4, 3, "conv")
    with pytest.raises(bs.InvalidArgumentError, match=r"groups=2 must divide the channels \(3\)"):
        layers.group_norm(b, x, 2, "gn")


# ---- mixture of experts ----------------------------------------------------------------------------
def test_moe_ops_route_group_and_combine(rng):
    logits = rng.standard_normal((7, 5)).astype(np.float32)
    logits[3, [1, 4]] = 2.5  # a tie: the lower expert first, as torch.topk
    weights, idx = (np.asarray(t) for t in bs._core.topk_gate(logits, 2))
    ref_v, ref_i = torch.topk(torch.softmax(torch.from_numpy(logits), -1), 2)
    np.testing.assert_array_equal(idx, ref_i.numpy())
    close(weights, (ref_v / ref_v.sum(-1, keepdim=True)).numpy(), 1e-6)
    x = rng.standard_normal((7, 6)).astype(np.float32)
    xs, order, offsets = (np.asarray(t) for t in bs._core.moe_permute(x, idx, 5))
    assert offsets[0] == 0 and offsets[-1] == 14 and np.all(np.diff(offsets) >= 0)
    for e in range(5):  # expert e's rows: its tokens, in token order
        rows = order[offsets[e]:offsets[e + 1]]
        assert np.all(idx.reshape(-1)[rows] == e) and np.all(np.diff(rows) > 0)
        np.testing.assert_array_equal(xs[offsets[e]:offsets[e + 1]], x[rows // 2])
    w = rng.standard_normal((5, 6, 3)).astype(np.float32)
    ys = np.asarray(bs._core.grouped_matmul(xs, offsets, w))
    want = np.concatenate([xs[offsets[e]:offsets[e + 1]] @ w[e] for e in range(5)])
    close(ys, want)
    close(bs._core.grouped_matmul(xs, offsets, w, "v1"), want)
    out = np.asarray(bs._core.moe_unpermute(ys, order, weights))
    want = np.zeros((7, 3))
    for row, a in enumerate(order):
        want[a // 2] += weights.reshape(-1)[a] * ys[row]
    close(out, want)
    with pytest.raises(bs.InvalidArgumentError, match=r"topk_gate: k=6 must be in \[1, 5\]"):
        bs._core.topk_gate(logits, 6)
    with pytest.raises(bs.InvalidArgumentError, match=r"moe_permute: indices\[0, 1\]=9 is not an expert"):
        bs._core.moe_permute(x, np.array([[0, 9]] * 7, np.int64), 5)


def test_moe_layer_matches_mixtral_block(rng):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (test extra)")
    x = rng.standard_normal((2, 5, 16)).astype(np.float32)
    (y,), p, grads, w = run_layer(lambda b, v: layers.moe(b, v, 4, 2, 12, "moe"), x, rng, grads=True)
    cfg = transformers.MixtralConfig(hidden_size=16, intermediate_size=12, num_local_experts=4, num_experts_per_tok=2)
    block = transformers.models.mixtral.modeling_mixtral.MixtralSparseMoeBlock(cfg).eval()
    block.load_state_dict({k.removeprefix("moe."): torch.from_numpy(v) for k, v in p.items()})
    tx = torch.from_numpy(x).requires_grad_()
    ref = block(tx)
    ref = ref[0] if isinstance(ref, tuple) else ref
    close(y, ref.detach().numpy())
    want = torch_grads(ref, {"x": tx, **{"moe." + k: t for k, t in block.named_parameters()}}, w)
    for k, v in want.items():
        close(grads[k], v, 1e-4)


# ---- the Mamba block ---------------------------------------------------------------------------------
def test_depthwise_conv1d_matches_torch(rng):
    x = rng.standard_normal((2, 5, 9)).astype(np.float32)
    w = rng.standard_normal((5, 4)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, bias))
    ref = F.conv1d(tx, tw[:, None, :], tb, padding=3, groups=5)[..., :9]  # Mamba's causal conv
    y = bs._core.depthwise_conv1d(x, w, bias, 3)
    close(y, ref.detach().numpy())
    dy = rng.standard_normal(ref.shape).astype(np.float32)
    (ref * torch.from_numpy(dy)).sum().backward()
    for got, want in zip(bs._core.depthwise_conv1d_backward(dy, x, w, 3), (tx.grad, tw.grad, tb.grad)):
        close(got, want.numpy(), 1e-5)


def test_mamba_ssm_matches_the_recurrence(rng):
    b, t, d, n = 2, 6, 3, 4
    x, dt = (rng.standard_normal((b, t, d)).astype(np.float32) for _ in range(2))
    dt[0, 0, 0] = 25.0  # softplus's linear branch
    a_log = rng.standard_normal((d, n)).astype(np.float32) * 0.5
    bm, cm = (rng.standard_normal((b, t, n)).astype(np.float32) for _ in range(2))
    dv = rng.standard_normal(d).astype(np.float32)
    args = [torch.from_numpy(v.astype(np.float64)).requires_grad_() for v in (x, dt, a_log, bm, cm, dv)]
    tx, tdt, ta, tb, tc, td = args
    delta = F.softplus(tdt)
    h = torch.zeros(b, d, n, dtype=torch.float64)
    ys = []
    for i in range(t):
        h = torch.exp(delta[:, i, :, None] * -torch.exp(ta)) * h + delta[:, i, :, None] * tb[:, i, None, :] * tx[:, i, :, None]
        ys.append((h * tc[:, i, None, :]).sum(-1) + td * tx[:, i])
    ref = torch.stack(ys, 1)
    close(bs._core.mamba_ssm(x, dt, a_log, bm, cm, dv), ref.detach().numpy(), 1e-5)
    dy = rng.standard_normal((b, t, d)).astype(np.float32)
    (ref * torch.from_numpy(dy.astype(np.float64))).sum().backward()
    got = bs._core.mamba_ssm_backward(dy, x, dt, a_log, bm, cm, dv)
    for name, g, a in zip(["x", "dt", "A_log", "B", "C", "D"], got, args):
        close(g, a.grad.numpy(), 1e-5)
    with pytest.raises(bs.InvalidArgumentError, match=r"mamba_ssm: A_log is .*, must be \[3, state\]"):
        bs._core.mamba_ssm(x, dt, a_log.T.copy(), bm, cm, dv)


def test_mamba_layer_matches_transformers_mixer(rng):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (test extra)")
    x = rng.standard_normal((2, 7, 16)).astype(np.float32)
    (y,), p, grads, w = run_layer(lambda b, v: layers.mamba(b, v, "mixer", state=4, conv_kernel=3), x, rng, grads=True)
    cfg = transformers.MambaConfig(hidden_size=16, state_size=4, conv_kernel=3, expand=2, time_step_rank=1)
    mixer = transformers.models.mamba.modeling_mamba.MambaMixer(cfg, layer_idx=0)
    mixer.load_state_dict({k.removeprefix("mixer."): torch.from_numpy(v) for k, v in p.items()})
    tx = torch.from_numpy(x).requires_grad_()
    ref = mixer(tx)
    close(y, ref.detach().numpy(), 5e-5)
    want = torch_grads(ref, {"x": tx, **{"mixer." + k: t for k, t in mixer.named_parameters()}}, w)
    for k, v in want.items():
        close(grads[k], v, 2e-4)


# ---- the MoE and Mamba layers on CUDA ----------------------------------------------------------------
def _mamba_ssm_core(b, v):
    """The mamba_ssm node alone on x [B, T, D]: dt, A_log and D parameters, B and C slices of
    one [B, T, 2N] parameter (as the mixer slices them from x_proj's output)."""
    bb, t, d = b.shape(v)
    n = 5
    bc = b.parameter("ssm.BC", [bb, t, 2 * n], "normal", 1.0)
    inputs = [v, b.parameter("ssm.dt", [bb, t, d], "normal", 1.0), b.parameter("ssm.A_log", [d, n], "normal", 0.5),
              b.slice(bc, 2, 0, n), b.slice(bc, 2, n, 2 * n), b.parameter("ssm.D", [d], "ones")]
    return b.node("mamba_ssm", inputs, {}, "ssm")[0]


@pytest.mark.parametrize("name", ["moe", "mamba", "mamba_ssm"])
def test_moe_and_mamba_layers_run_on_cuda_as_on_the_cpu(rng, name):
    """The MoE block, the Mamba mixer and the bare SSM node on CUDA (a GPU, or the emulator
    build): the same graph and parameters give the CPU's outputs and gradients."""
    _needs_cuda()
    build, shape = {
        "moe": (lambda b, v: layers.moe(b, v, 4, 2, 12, "moe"), (2, 5, 16)),
        "mamba": (lambda b, v: layers.mamba(b, v, "mixer", state=4, conv_kernel=3), (2, 7, 16)),
        "mamba_ssm": (_mamba_ssm_core, (2, 7, 3)),
    }[name]
    x = rng.standard_normal(shape).astype(np.float32)
    b = Builder()
    out = build(b, b.input("x", list(x.shape), "float32"))
    b.output(out, "out0")
    g = b.finish()
    params = {k: np.asarray(v) + (0.2 * rng.standard_normal(np.shape(v))).astype(np.float32)
              for k, v in random_parameters(g, b.inits, 3).items()}
    info = backward(g, out, ["x"] + list(params))
    weights = rng.standard_normal(b.shape(out)).astype(np.float32)
    want = Executor(g, params).run([x, weights])
    got = Executor(g, params, device="cuda").run([x, weights])
    names = ["out0"] + list(info["gradients"])
    assert len(got) == len(want) == len(names)
    for key, a, e in zip(names, got, want):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(e).max())), err_msg=key)


def test_moe_and_ssm_cuda_kernels_past_one_tile(rng):
    """Sizes the fuzzers do not reach, CUDA against the CPU: several 16x16 GEMM tiles along
    rows, K and M with an empty expert, tied logits, and N > 16 states (two register sweeps)."""
    _needs_cuda()
    dev = _dev

    def same(got, want, tol=1e-5):
        close(_host(got) if isinstance(got, bs.Tensor) else got, np.asarray(want), tol)

    tokens, experts, k, width, m = 41, 6, 2, 37, 35
    logits = rng.standard_normal((tokens, experts)).astype(np.float32)
    logits[0] = 0.25  # all tied: the lower indices first
    weights, idx = bs.ops.topk_gate(logits, k)
    gw, gi = bs.ops.topk_gate(dev(logits), k)
    np.testing.assert_array_equal(gi.to("cpu").numpy(), idx)
    same(gw, weights)
    idx = np.where(idx == 3, 5, idx)  # expert 3 gets no rows
    x = rng.standard_normal((tokens, width)).astype(np.float32)
    xs, order, offsets = bs.ops.moe_permute(x, idx, experts)
    gxs, gorder, goffsets = bs.ops.moe_permute(dev(x), dev(idx), experts)
    np.testing.assert_array_equal(gorder.to("cpu").numpy(), order)
    np.testing.assert_array_equal(goffsets.to("cpu").numpy(), offsets)
    w = rng.standard_normal((experts, width, m)).astype(np.float32)
    same(bs.ops.grouped_matmul(gxs, goffsets, dev(w)), bs.ops.grouped_matmul(xs, offsets, w, impl="v1"))
    dys = rng.standard_normal((tokens * k, m)).astype(np.float32)
    for out_in in (False, True):
        same(bs.ops.grouped_matmul_weight_grad(gxs, dev(dys), goffsets, out_in),
             bs.ops.grouped_matmul_weight_grad(xs, dys, offsets, out_in))
    same(bs.ops.moe_unpermute(dev(dys), gorder, dev(weights)), bs.ops.moe_unpermute(dys, order, weights))
    b, t, d, n = 2, 5, 3, 21
    args = [rng.standard_normal(s).astype(np.float32) * c
            for s, c in (((b, t, d), 1), ((b, t, d), 2), ((d, n), 0.5), ((b, t, n), 1), ((b, t, n), 1), ((d,), 1))]
    same(bs.ops.mamba_ssm(*map(dev, args)), bs.ops.mamba_ssm(*args))
    dy = rng.standard_normal((b, t, d)).astype(np.float32)
    for got, want in zip(bs.ops.mamba_ssm_backward(dev(dy), *map(dev, args)), bs.ops.mamba_ssm_backward(dy, *args)):
        same(got, want)


# ---- the same ops and layers on CUDA (a GPU or the emulator build) as on the CPU --------------------
def _needs_cuda():
    from conftest import CUDA, CUDA_REASON
    if not CUDA:
        pytest.skip(f"no_cuda: {CUDA_REASON}")


def _dev(a):
    return bs.Tensor.from_numpy(np.ascontiguousarray(a)).to("cuda")


def _host(t):
    return np.asarray(t.to("cpu"))


def test_conv_ops_on_cuda_match_the_cpu_bit_for_bit(rng):
    """unfold, fold, the pools and their backwards form the CPU's sums in the CPU's order:
    equal bit for bit, NaN and ties (the first maximum wins) included."""
    _needs_cuda()
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    x[0, 1, 2, 3] = np.nan
    x[1, 0, :5, :5] = 1.5  # ties
    for kernel, stride, padding, dilation in [((3, 3), 1, 1, 1), ((2, 3), (2, 1), (1, 0), (1, 2)), (1, 2, 0, 1)]:
        window = (kernel, stride, padding, dilation)
        cols = np.asarray(bs._core.unfold(x, *window))
        np.testing.assert_array_equal(_host(bs._core.unfold(_dev(x), *window)), cols)
        np.testing.assert_array_equal(_host(bs._core.fold(_dev(cols), 3, 9, 8, *window)),
                                      np.asarray(bs._core.fold(cols, 3, 9, 8, *window)))
    for kernel, stride, padding in [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1))]:
        y, idx = bs._core.max_pool2d(x, kernel, stride, padding)
        yc, idxc = bs._core.max_pool2d(_dev(x), kernel, stride, padding)
        np.testing.assert_array_equal(_host(yc), np.asarray(y))
        np.testing.assert_array_equal(_host(idxc), np.asarray(idx))
        dy = rng.standard_normal(np.asarray(y).shape).astype(np.float32)
        np.testing.assert_array_equal(_host(bs._core.max_pool2d_backward(_dev(dy), idxc, 9, 8)),
                                      np.asarray(bs._core.max_pool2d_backward(dy, idx, 9, 8)))
        np.testing.assert_array_equal(_host(bs._core.avg_pool2d(_dev(x), kernel, stride, padding)),
                                      np.asarray(bs._core.avg_pool2d(x, kernel, stride, padding)))
        dy = rng.standard_normal(np.asarray(bs._core.avg_pool2d(x, kernel, stride, padding)).shape).astype(np.float32)
        np.testing.assert_array_equal(_host(bs._core.avg_pool2d_backward(_dev(dy), 9, 8, kernel, stride, padding)),
                                      np.asarray(bs._core.avg_pool2d_backward(dy, 9, 8, kernel, stride, padding)))
    with pytest.raises(bs.InvalidArgumentError, match=r"indices\[0\]=72 is outside the 9x8 input"):
        bs._core.max_pool2d_backward(_dev(np.ones((1, 1, 1, 1), np.float32)), _dev(np.full((1, 1, 1, 1), 72)), 9, 8)


def test_depthwise_dropout_and_positions_on_cuda_match_the_cpu(rng):
    _needs_cuda()
    x, w, bias = (rng.standard_normal(s).astype(np.float32) for s in ((3, 5, 11), (5, 4), (5,)))
    for pad in (3, 0, 5):
        close(_host(bs._core.depthwise_conv1d(_dev(x), _dev(w), _dev(bias), pad)),
              bs._core.depthwise_conv1d(x, w, bias, pad), 1e-6)
        dy = rng.standard_normal((3, 5, 11 + pad - 3)).astype(np.float32)
        for got, want in zip(bs._core.depthwise_conv1d_backward(_dev(dy), _dev(x), _dev(w), pad),
                             bs._core.depthwise_conv1d_backward(dy, x, w, pad)):
            close(_host(got), want, 1e-6)
    with pytest.raises(bs.InvalidArgumentError, match=r"depthwise_conv1d: x is .* but w is .* must be on one device"):
        bs._core.depthwise_conv1d(_dev(x), w, bias, 3)
    # Dropout: the CPU's mask and values, bit for bit (91 elements: a partial Philox block).
    x = rng.standard_normal((7, 13)).astype(np.float32)
    for p, seed in ((0.3, 11), (0.0, 5), (0.9, 2**64 - 1)):
        np.testing.assert_array_equal(_host(bs._core.dropout(_dev(x), p, seed)),
                                      np.asarray(bs._core.dropout(x, p, seed)))
    close(_host(bs._core.sinusoidal_positions(9, 7, 10000.0, 3, device="cuda")),
          bs._core.sinusoidal_positions(9, 7, 10000.0, 3), 1e-6)


def _cnn_block(b, v):
    h = layers.conv2d(b, v, 8, 3, "conv", padding=1)
    h = b.relu(layers.batch_norm(b, h, "bn"))
    h = layers.group_norm(b, layers.max_pool2d(b, h, 2), 4, "gn")
    return layers.avg_pool2d(b, h, 3, 2, 1)


CUDA_LAYERS = {
    "conv2d": (lambda b, v: layers.conv2d(b, v, 5, (2, 3), "conv", (2, 1), (1, 0), (1, 2), True), (2, 3, 9, 8)),
    "conv1d": (lambda b, v: layers.conv1d(b, v, 6, 4, "c", stride=2, padding=3, dilation=2), (3, 4, 11)),
    "max_pool2d": (lambda b, v: layers.max_pool2d(b, v, 3, 2, 1), (2, 3, 9, 8)),
    "avg_pool2d": (lambda b, v: layers.avg_pool2d(b, v, (2, 3), (1, 2), (1, 1)), (2, 3, 7, 9)),
    "batch_norm_training": (lambda b, v: layers.batch_norm(b, v, "bn", training=True), (5, 3, 4, 3)),
    "batch_norm_inference": (lambda b, v: layers.batch_norm(b, v, "bn"), (5, 3, 4, 3)),
    "group_norm": (lambda b, v: layers.group_norm(b, v, 2, "gn"), (2, 6, 5, 3)),
    "dropout": (lambda b, v: layers.dropout(b, v, 0.3, seed=7, step_scalar="step"), (6, 37)),
    "cnn_block": (_cnn_block, (2, 3, 12, 10)),
}


@pytest.mark.parametrize("name", sorted(CUDA_LAYERS))
def test_layers_run_on_cuda_as_on_the_cpu(rng, name):
    """The same graph, parameters and output weights on CUDA: outputs and every gradient as on
    the CPU (dropout: the same mask, bit for bit, for each step)."""
    _needs_cuda()
    build, shape = CUDA_LAYERS[name]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
    for step in (0, 1) if name == "dropout" else (0,):
        scalars = {"step": step} if name == "dropout" else None
        (y,), p, grads, w = run_layer(build, x, rng, grads=True, scalars=scalars)
        (yc,), _, grads_c, _ = run_layer(build, x, rng, params=p, grads=True, device="cuda", weights=w,
                                         scalars=scalars)
        assert sorted(grads_c) == sorted(grads) and len(grads) >= 1
        if name == "dropout":
            np.testing.assert_array_equal(yc, y)
            np.testing.assert_array_equal(grads_c["x"], grads["x"])
            continue
        close(yc, y, 2e-5)
        for k in grads:
            close(grads_c[k], grads[k], 1e-4)


def test_sinusoidal_positions_layer_on_cuda_as_on_the_cpu():
    _needs_cuda()
    b = Builder()
    ids = b.input("ids", [2, 9], "int64")
    b.output(layers.sinusoidal_positions(b, ids, 7, offset_scalar="past"), "p")
    g = b.finish()
    feed = [np.zeros((2, 9), np.int64)]
    want, got = (Executor(g, {}, device=d).run(feed, {"past": 3})[0] for d in ("cpu", "cuda"))
    close(got, want, 1e-6)
