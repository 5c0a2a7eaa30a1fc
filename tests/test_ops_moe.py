"""The mixture-of-experts references in float64: each op's CPU v1 on float64 inputs agrees
with its float32 v1 on the same (float32-representable) values to ~1e-6 and with a NumPy
float64 formula to 1e-12; the other versions refuse float64 by name; mixed dtypes are one
clear error. (Every version in float32: tests/test_fuzz_ops.py; the layer against
transformers: tests/test_layers.py.)"""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs

F64_TOL, F32_TOL = 1e-12, 1e-6


def close(got, want, tol, what):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    size = np.linalg.norm(want)
    err = np.linalg.norm(got - want) / (size if size else 1.0)
    assert err <= tol, f"{what}: normwise error {err:.3g} > {tol}"


def both(fn, *args, **kwargs):
    """fn on float64 arrays (float32-representable values) and on their float32 copies, both
    on v1; the float64 results must be float64 and agree with the float32 ones to ~1e-6."""
    f64 = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a for a in args]
    out64, out32 = fn(*f64, impl="v1", **kwargs), fn(*args, impl="v1", **kwargs)
    single = not isinstance(out64, (list, tuple))
    out64, out32 = ([out64], [out32]) if single else (out64, out32)
    out64 = [np.asarray(o) for o in out64]
    for i, (a, b) in enumerate(zip(out64, out32)):
        b = np.asarray(b)
        if b.dtype == np.int64:
            np.testing.assert_array_equal(a, b)
        else:
            assert a.dtype == np.float64 and b.dtype == np.float32, (fn.__name__, i, a.dtype, b.dtype)
            close(a, b, F32_TOL, f"{fn.__name__}[{i}] float64 vs float32")
    return out64[0] if single else out64


def f32(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def test_moe_references_in_float64(rng):
    tokens, experts, k, width, m = 7, 4, 2, 5, 3
    logits = f32(rng, tokens, experts, scale=2)
    weights, idx = both(bs.ops.topk_gate, logits, k)
    order_top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(idx, order_top)
    top = np.take_along_axis(logits.astype(np.float64), order_top, 1)
    e = np.exp(top - top[:, :1])
    close(weights, e / e.sum(1, keepdims=True), F64_TOL, "topk_gate weights")

    dw = f32(rng, tokens, k)
    dlogits = both(bs.ops.topk_gate_backward, dw, weights.astype(np.float32), idx, experts)
    w64 = weights.astype(np.float32).astype(np.float64)
    want = np.zeros((tokens, experts))
    np.put_along_axis(want, idx, w64 * (dw - (w64 * dw).sum(1, keepdims=True)), 1)
    close(dlogits, want, F64_TOL, "topk_gate_backward")

    x = f32(rng, tokens, width)
    xs, order, offsets = both(bs.ops.moe_permute, x, idx, experts)
    want_order = np.argsort(idx.reshape(-1), kind="stable")
    np.testing.assert_array_equal(order, want_order)
    np.testing.assert_array_equal(offsets, np.concatenate([[0], np.cumsum(np.bincount(idx.reshape(-1),
                                                                                      minlength=experts))]))
    close(xs, x[want_order // k], 0.0, "moe_permute")

    dxs = f32(rng, tokens * k, width)
    want = np.zeros((tokens, width))
    np.add.at(want, order // k, dxs.astype(np.float64))
    close(both(bs.ops.moe_permute_backward, dxs, order, tokens), want, F64_TOL, "moe_permute_backward")

    w = f32(rng, experts, width, m)
    segments = [slice(offsets[i], offsets[i + 1]) for i in range(experts)]
    want = np.concatenate([xs[s].astype(np.float64) @ w[i] for i, s in enumerate(segments)])
    close(both(bs.ops.grouped_matmul, xs.astype(np.float32), offsets, w), want, F64_TOL, "grouped_matmul")

    dys = f32(rng, tokens * k, m)
    for out_in in (False, True):
        want = np.stack([xs[s].astype(np.float64).T @ dys[s] for s in segments])
        want = want.transpose(0, 2, 1) if out_in else want
        close(both(bs.ops.grouped_matmul_weight_grad, xs.astype(np.float32), dys, offsets, out_in), want, F64_TOL,
              f"grouped_matmul_weight_grad out_in={out_in}")

    ys, gate = f32(rng, tokens * k, width), rng.random((tokens, k)).astype(np.float32)
    row_of = np.empty_like(order)
    row_of[order] = np.arange(order.size)
    picked = ys.astype(np.float64)[row_of].reshape(tokens, k, width)
    close(both(bs.ops.moe_unpermute, ys, order, gate), np.einsum("tk,tkh->th", gate.astype(np.float64), picked),
          F64_TOL, "moe_unpermute")
    dout = f32(rng, tokens, width)
    dys_got, dgate = both(bs.ops.moe_unpermute_backward, dout, ys, order, gate)
    close(dys_got, gate.reshape(-1)[order, None].astype(np.float64) * dout[order // k], F64_TOL, "dys")
    close(dgate, np.einsum("th,tkh->tk", dout.astype(np.float64), picked), F64_TOL, "dweights")


def test_moe_float64_errors(rng):
    x64 = rng.standard_normal((4, 3))
    offsets = np.array([0, 4], np.int64)
    w32 = rng.standard_normal((1, 3, 2)).astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match=r"grouped_matmul: w is .*must be float64 \(xs's dtype\)"):
        bs.ops.grouped_matmul(x64, offsets, w32)
    with pytest.raises(bs.InvalidArgumentError, match="topk_gate: logits is .*must be float32 or float64"):
        bs.ops.topk_gate(x64.astype(np.float16), 1)
    # v2 (the blocked GEMM) is float32 only: refused by name; float64 goes to the reference by default.
    with pytest.raises(bs.BenchsuiteError, match="v2.*float64|float64.*v2"):
        bs.ops.grouped_matmul(x64, offsets, w32.astype(np.float64), impl="v2")
    assert np.asarray(bs.ops.grouped_matmul(x64, offsets, w32.astype(np.float64))).dtype == np.float64
