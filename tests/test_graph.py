"""The model layer's graph: building (shape inference, verification, errors naming the node),
the executor (results against NumPy references on random data, plans cached by shape, buffers
reused, no allocation in steady state) and the summary."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs
from benchsuite.models import Builder, Executor, random_parameters
from op_helpers import all_versions, on_device, to_host


def mlp_graph(batch=3, width=20, hidden=37):
    b = Builder()
    x = b.input("x", [batch, width])
    h = b.linear(x, hidden, "fc1")
    h = b.gelu(h)
    y = b.linear(h, width, "fc2", in_out=True)
    y = b.layernorm(b.add(y, x), "ln")
    b.output(y, "y")
    return b.finish(), b.inits


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def layernorm(x, g, b, eps=1e-5):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def mlp_reference(p, x):
    h = gelu_tanh(x @ p["fc1.weight"].T + p["fc1.bias"])
    y = h @ p["fc2.weight"] + p["fc2.bias"]
    return layernorm(y + x, p["ln.weight"], p["ln.bias"])


def test_mlp_matches_numpy_for_several_shapes(rng):
    g, inits = mlp_graph()
    params = {k: np.asarray(v).astype(np.float64) for k, v in random_parameters(g, inits, seed=3).items()}
    params["ln.weight"] = rng.standard_normal(20) + 1
    params["ln.bias"] = rng.standard_normal(20)
    ex = Executor(g, {k: v.astype(np.float32) for k, v in params.items()})
    for batch in (3, 1, 7):  # other shapes re-plan
        x = rng.standard_normal((batch, 20)).astype(np.float32)
        (y,) = ex.run([x])
        np.testing.assert_allclose(y, mlp_reference(params, x.astype(np.float64)), rtol=1e-4, atol=1e-4)
    assert ex.stats["plans"] == 3


def test_buffers_are_reused_and_steady_state_does_not_allocate(rng):
    b = Builder()
    x = b.input("x", [64, 128])
    h = x
    for i in range(6):
        h = b.gelu(b.linear(h, 128, f"l{i}"))
    b.output(h)
    g = b.finish()
    ex = Executor(g, random_parameters(g, b.inits, 0))
    xs = rng.standard_normal((64, 128)).astype(np.float32)
    ex.run_views([xs])
    stats = ex.stats
    assert stats["arena_bytes"] < stats["unshared_bytes"] / 2  # 12 intermediates in ~3 buffers
    bs.reset_memory_stats("cpu")
    before = bs.memory_stats("cpu")["allocation_count"]
    for _ in range(3):
        ex.run_views([xs])
    assert bs.memory_stats("cpu")["allocation_count"] == before


def test_parameters_are_checked_by_name_and_shape():
    g, inits = mlp_graph()
    params = random_parameters(g, inits, 0)
    missing = dict(params)
    del missing["fc1.bias"]
    with pytest.raises(bs.InvalidArgumentError, match=r"missing tensor 'fc1.bias'"):
        Executor(g, missing)
    wrong = dict(params, **{"fc1.weight": np.zeros((20, 37), np.float32)})
    with pytest.raises(bs.InvalidArgumentError, match=r"'fc1.weight' has shape \[20, 37\], the model expects \[37, 20\]"):
        Executor(g, wrong)
    with pytest.raises(bs.InvalidArgumentError, match=r"does not have: 'extra.weight'"):
        Executor(g, dict(params, **{"extra.weight": np.zeros(3, np.float32)}))


def test_bad_nodes_name_the_node_and_inputs():
    b = Builder()
    x = b.input("x", [4, 8])
    with pytest.raises(bs.InvalidArgumentError, match=r"graph node 'mm' \(matmul\).*disagree in k"):
        b.matmul(x, b.parameter("w", [9, 3]), "mm")
    with pytest.raises(bs.InvalidArgumentError, match=r"unknown node kind 'nope'"):
        b.node("nope", [x])
    with pytest.raises(bs.InvalidArgumentError, match=r"cannot become"):
        b.reshape(x, [5, -1])


def test_summary_counts_flops_and_parameters():
    g, _ = mlp_graph(batch=3, width=20, hidden=37)
    rows = {r["name"]: r for r in g.summary()}
    assert rows["fc1"]["flops"] == pytest.approx(2 * 3 * 20 * 37 + 3 * 37)
    assert rows["fc1"]["parameter_elements"] == 37 * 20 + 37
    assert rows["fc1"]["outputs"][0] == ((3, 37), "float32")
    kinds = {k["name"] for k in bs.models.node_kinds()}
    assert {"linear", "attention", "layernorm", "rmsnorm", "rope", "embedding", "cache_write"} <= kinds


def _visible(sq, keys, causal, mask_row, q_offset, window):
    """[sq, keys]: whether query i (at position q_offset + i) sees key j."""
    pos, j = q_offset + np.arange(sq)[:, None], np.arange(keys)[None, :]
    ok = np.ones((sq, keys), bool)
    if causal:
        ok &= j <= pos
    if window:
        ok &= j > pos - window
    if mask_row is not None:
        ok &= mask_row[None, :keys] != 0
    return ok


def attention_reference(q, k, v, causal=False, mask=None, q_offset=0, window=0):
    B, Hq, Sq, D = q.shape
    Hkv, Sk = k.shape[1], k.shape[2]
    out = np.zeros_like(q, dtype=np.float64)
    if Sk == 0 or Sq == 0:  # no key to see: zeros
        return out
    for b in range(B):
        for h in range(Hq):
            kh = h // (Hq // Hkv)
            s = q[b, h].astype(np.float64) @ k[b, kh].T.astype(np.float64) / np.sqrt(D)
            ok = _visible(Sq, Sk, causal, None if mask is None else mask[b], q_offset, window)
            s = np.where(ok, s, -np.inf)
            m = s.max(-1, keepdims=True)
            e = np.where(ok, np.exp(s - np.where(np.isfinite(m), m, 0)), 0)
            tot = e.sum(-1, keepdims=True)
            out[b, h] = np.where(tot > 0, e @ v[b, kh].astype(np.float64) / np.where(tot > 0, tot, 1), 0)
    return out


def attention_backward_reference(do, q, k, v, causal=False, mask=None, q_offset=0, window=0, kv_len=None):
    """(dq, dk, dv) of attention_reference in float64 from the formulas: P the masked softmax,
    dv = P^T do, dS = P (do v^T - rowsum(P * do v^T)), dq = dS k * scale, dk = dS^T q * scale;
    dk, dv summed over each kv head's query heads and zero at keys past kv_len."""
    B, Hq, Sq, D = q.shape
    Hkv, cap = k.shape[1], k.shape[2]
    kv_len = cap if kv_len is None else kv_len
    q, k, v, do = (np.asarray(a, np.float64) for a in (q, k, v, do))
    dq, dk, dv = np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    scale = 1 / np.sqrt(D)
    for b in range(B):
        for h in range(Hq):
            kh = h // (Hq // Hkv)
            kb, vb = k[b, kh, :kv_len], v[b, kh, :kv_len]
            ok = _visible(Sq, kv_len, causal, None if mask is None else mask[b], q_offset, window)
            s = np.where(ok, q[b, h] @ kb.T * scale, -np.inf)
            m = s.max(-1, keepdims=True) if kv_len else np.zeros((Sq, 1))
            e = np.where(ok, np.exp(s - np.where(np.isfinite(m), m, 0)), 0)
            tot = e.sum(-1, keepdims=True)
            p = e / np.where(tot > 0, tot, 1)
            dp = do[b, h] @ vb.T
            ds = p * (dp - (p * dp).sum(-1, keepdims=True)) * scale
            dq[b, h] = ds @ kb
            dk[b, kh, :kv_len] += ds.T @ q[b, h]
            dv[b, kh, :kv_len] += p.T @ do[b, h]
    return dq, dk, dv


@pytest.mark.parametrize("device,impl", all_versions("attention_kv_backward"))
@pytest.mark.parametrize("hq,hkv", [(4, 4), (4, 2), (3, 1)])
@pytest.mark.parametrize("causal,window,q_offset,sq,sk,kv_len", [(False, 0, 0, 7, 7, 7), (True, 0, 0, 9, 9, 9),
                                                                 (True, 3, 0, 9, 9, 9), (True, 0, 5, 3, 8, 8),
                                                                 (False, 2, 4, 5, 11, 9), (True, 0, 0, 6, 4, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_attention_kv_backward_matches_the_formulas(rng, device, impl, hq, hkv, causal, window, q_offset, sq, sk,
                                                    kv_len, masked):
    q = rng.standard_normal((2, hq, sq, 5)).astype(np.float32)
    k, v = (rng.standard_normal((2, hkv, sk, 5)).astype(np.float32) for _ in range(2))
    do = rng.standard_normal(q.shape).astype(np.float32)
    mask = (rng.random((2, sk)) > 0.3).astype(np.float32) if masked else None
    if masked:
        mask[1, :] = 0  # a batch row whose queries see nothing: zero gradients
    got = bs.ops.attention_kv_backward(*(on_device(a, device) for a in (do, q, k, v)), key_mask=on_device(mask, device),
                                       causal=causal, q_offset=q_offset, kv_len=kv_len, window=window, impl=impl)
    want = attention_backward_reference(do, q, k, v, causal, mask, q_offset, window, kv_len)
    for name, a, b in zip(("dq", "dk", "dv"), got, want):
        np.testing.assert_allclose(to_host(a), b, rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("device,impl", all_versions("attention_kv"))
@pytest.mark.parametrize("hq,hkv", [(4, 4), (4, 2), (6, 1)])
@pytest.mark.parametrize("causal,window,q_offset,sq,sk", [(False, 0, 0, 7, 7), (True, 0, 0, 9, 9),
                                                          (True, 3, 0, 9, 9), (True, 0, 5, 3, 8),
                                                          (False, 0, 0, 2, 600)])  # past one 512-key chunk
def test_attention_kv_against_reference(rng, device, impl, hq, hkv, causal, window, q_offset, sq, sk):
    q = rng.standard_normal((2, hq, sq, 16)).astype(np.float32)
    k = rng.standard_normal((2, hkv, sk + 2, 16)).astype(np.float32)  # cache capacity above kv_len
    v = rng.standard_normal((2, hkv, sk + 2, 16)).astype(np.float32)
    mask = (rng.random((2, sk + 2)) > 0.3).astype(np.float32)
    mask[:, 0] = 1
    mask[1, :sk // 2] = 0  # a long run of masked keys (a whole chunk on CUDA for the long case)
    o = bs.ops.attention_kv(*(on_device(a, device) for a in (q, k, v)), key_mask=on_device(mask, device),
                            causal=causal, q_offset=q_offset, kv_len=sk, window=window, impl=impl)
    ref = attention_reference(q, k[:, :, :sk], v[:, :, :sk], causal, mask[:, :sk], q_offset, window)
    np.testing.assert_allclose(to_host(o), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("device,impl", all_versions("attention_kv"))
@pytest.mark.parametrize("hq,hkv", [(12, 12), (12, 4), (8, 1)])
@pytest.mark.parametrize("sq,sk,d", [(1, 513, 64), (3, 40, 3), (7, 129, 80), (65, 65, 16), (129, 129, 1),
                                     (20, 300, 128), (63, 63, 256)])
@pytest.mark.parametrize("causal,window,masked", [(False, 0, False), (True, 0, False), (True, 0, True),
                                                  (True, 17, False), (False, 5, True)])
def test_attention_kv_awkward_shapes(rng, device, impl, hq, hkv, sq, sk, d, causal, window, masked):
    """Shapes around the CPU v3 tiles: decode rows (<= 4 a kv head), 16/32/64-lane blocks that mix
    a group's heads, head widths off the 6-row tiles; padding masks with a batch row that sees
    nothing, sliding windows, a query offset into a cache with spare capacity."""
    q = rng.standard_normal((2, hq, sq, d)).astype(np.float32)
    k, v = (rng.standard_normal((2, hkv, sk + 3, d)).astype(np.float32) for _ in range(2))
    mask = None
    if masked:
        mask = (rng.random((2, sk + 3)) > 0.3).astype(np.float32)
        mask[1] = 0
    q_offset = sk - sq
    o = bs.ops.attention_kv(*(on_device(a, device) for a in (q, k, v)), key_mask=on_device(mask, device),
                            causal=causal, q_offset=q_offset, kv_len=sk, window=window, impl=impl)
    ref = attention_reference(q, k[:, :, :sk], v[:, :, :sk], causal, None if mask is None else mask[:, :sk], q_offset,
                              window)
    np.testing.assert_allclose(to_host(o), ref, rtol=1e-5, atol=1e-5)


def test_attention_kv_bad_arguments_are_named(rng):
    q = rng.standard_normal((1, 3, 4, 8)).astype(np.float32)
    k = rng.standard_normal((1, 2, 4, 8)).astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match="q heads=3 must be a multiple of k heads=2"):
        bs.ops.attention_kv(q, k, k)
    with pytest.raises(bs.InvalidArgumentError, match="kv_len=9"):
        bs.ops.attention_kv(q, q, q, kv_len=9)


def test_a_version_can_be_named_per_op(rng):
    g, inits = mlp_graph()
    params = random_parameters(g, inits, 1)
    x = rng.standard_normal((3, 20)).astype(np.float32)
    (fast,) = Executor(g, params).run([x])
    (reference,) = Executor(g, params, versions={"matmul": "v1", "gelu": "v1", "layernorm": "v1"}).run([x])
    np.testing.assert_allclose(fast, reference, rtol=1e-4, atol=1e-5)
    with pytest.raises(bs.InvalidArgumentError, match="unknown op 'matmull'"):
        Executor(g, params, versions={"matmull": "v1"})
    with pytest.raises(bs.InvalidArgumentError, match="v9"):
        Executor(g, params, versions={"matmul": "v9"}).run([x])


def test_runtime_scalars_are_required_and_checked(rng):
    b = Builder()
    ids = b.input("ids", [1, 4], "int64")
    b.scalar("past_len")
    b.output(b.positions(ids, 6, 8, "wpe.weight", offset_scalar="past_len"))
    g = b.finish()
    ex = Executor(g, random_parameters(g, b.inits, 0))
    ids_v = np.zeros((1, 4), np.int64)
    with pytest.raises(bs.InvalidArgumentError, match="runtime scalar 'past_len' is missing"):
        ex.run([ids_v])
    (y,) = ex.run([ids_v], {"past_len": 2})
    table = np.asarray(ex._native.run([ids_v], {"past_len": 0}, True)[0])
    assert y.shape == (1, 4, 8) and np.allclose(y[0, :2], table[0, 2:4])
    with pytest.raises(bs.InvalidArgumentError, match="above the maximum positions 6"):
        ex.run([ids_v], {"past_len": 3})
