"""The attention ops (scaled dot-product attention, forward and backward): every registered
version against a NumPy float64 reference on fresh random data (never zeros), causal and
not, awkward sequence lengths (1, not a multiple of any block), analytic gradients and a
finite-difference check on a tiny shape, the errors callers see, and the case families."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs

from op_helpers import all_versions, on_device, relative_error, to_host, versions
from conftest import CUDA, fast_settings

OPS = ["attention", "attention_backward"]

# (B, H, S, D)
SHAPES = [(1, 1, 1, 1), (1, 1, 1, 16), (1, 1, 65, 16), (2, 3, 100, 16), (1, 1, 100, 64), (2, 3, 33, 1),
          (1, 1, 130, 64), (2, 3, 17, 64), (1, 2, 70, 100)]


def attention_ref(q, k, v, causal=False, scale=None):
    """(o, lse) in float64."""
    q, k, v = (np.asarray(t, np.float64) for t in (q, k, v))
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = np.einsum("bhid,bhjd->bhij", q, k) * scale
    if causal:
        n = s.shape[-1]
        s = np.where(np.tril(np.ones((n, n), bool)), s, -np.inf)
    m = s.max(-1, keepdims=True)
    e = np.exp(s - m)
    total = e.sum(-1, keepdims=True)
    return np.einsum("bhij,bhjd->bhid", e / total, v), (m + np.log(total))[..., 0]


def attention_backward_ref(do, q, k, v, causal=False, scale=None):
    """(dq, dk, dv) in float64, from the analytic formulas on a float64 forward."""
    do, q, k, v = (np.asarray(t, np.float64) for t in (do, q, k, v))
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    o, lse = attention_ref(q, k, v, causal, scale)
    s = np.einsum("bhid,bhjd->bhij", q, k) * scale
    p = np.exp(s - lse[..., None])
    if causal:
        p = p * np.tril(np.ones(p.shape[-2:]))
    dv = np.einsum("bhij,bhid->bhjd", p, do)
    dp = np.einsum("bhid,bhjd->bhij", do, v)
    ds = p * (dp - (do * o).sum(-1, keepdims=True))
    return np.einsum("bhij,bhjd->bhid", ds, k) * scale, np.einsum("bhij,bhid->bhjd", ds, q) * scale, dv


def randn(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def qkv(rng, shape):
    return randn(rng, shape), randn(rng, shape), randn(rng, shape)


def test_every_attention_op_has_versions_and_one_reference():
    for op in OPS:
        cpu = bs.ops.versions(op, "cpu")
        assert [v["version"] for v in cpu] == ["v1", "v2"], op
        assert [v["reference"] for v in cpu] == [True, False], op
        assert all(v["description"] and v["dtypes"] == ["float32"] for v in bs.ops.versions(op)), op
        assert callable(getattr(bs.ops, op))
    if bs.build_config()["cuda"]["enabled"]:
        assert versions("attention", "cuda") == ["v1", "v2"]
        assert versions("attention_backward", "cuda") == ["v1"]


@pytest.mark.parametrize("device,version", all_versions("attention"))
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_attention_forward(rng, device, version, causal, shape):
    q, k, v = qkv(rng, shape)
    o, lse = bs.ops.attention(on_device(q, device), on_device(k, device), on_device(v, device), causal=causal,
                              impl=version, return_lse=True)
    o, lse = to_host(o), to_host(lse)
    assert o.shape == shape and o.dtype == np.float32 and lse.shape == shape[:3]
    o_ref, lse_ref = attention_ref(q, k, v, causal)
    assert relative_error(o, o_ref) < 1e-5
    assert relative_error(lse, lse_ref) < 1e-6
    np.testing.assert_allclose(o, o_ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("device,version", all_versions("attention"))
def test_attention_explicit_scale_large_scores_and_single_query(rng, device, version):
    q, k, v = qkv(rng, (2, 2, 70, 8))
    q *= 10  # scores of +-hundreds: the softmax must subtract its max
    for causal in (False, True):
        o, lse = bs.ops.attention(on_device(q, device), on_device(k, device), on_device(v, device), causal=causal,
                                  scale=0.7, impl=version, return_lse=True)
        o_ref, lse_ref = attention_ref(q, k, v, causal, 0.7)
        assert relative_error(to_host(o), o_ref) < 1e-5
        assert relative_error(to_host(lse), lse_ref) < 1e-6
    # Causal row 0 sees key 0 only: o = v[..., 0, :] exactly up to rounding.
    o = to_host(bs.ops.attention(on_device(q, device), on_device(k, device), on_device(v, device), causal=True,
                                 impl=version))
    np.testing.assert_allclose(o[:, :, 0], v[:, :, 0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("device,version", all_versions("attention"))
def test_attention_head_dim_256(rng, device, version):
    q, k, v = qkv(rng, (1, 2, 40, 256))
    o = to_host(bs.ops.attention(on_device(q, device), on_device(k, device), on_device(v, device), causal=True,
                                 impl=version))
    assert relative_error(o, attention_ref(q, k, v, True)[0]) < 1e-5


BACKWARD_SHAPES = [(1, 1, 1, 1), (1, 1, 1, 16), (1, 1, 65, 16), (2, 3, 100, 16), (1, 1, 70, 64), (2, 3, 33, 1),
                   (2, 3, 17, 64)]


@pytest.mark.parametrize("device,version", all_versions("attention_backward"))
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", BACKWARD_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_attention_backward(rng, device, version, causal, shape):
    q, k, v = qkv(rng, shape)
    do = randn(rng, shape)
    o, lse = (a.astype(np.float32) for a in attention_ref(q, k, v, causal))
    grads = bs.ops.attention_backward(*(on_device(t, device) for t in (do, q, k, v, o, lse)), causal=causal,
                                      impl=version)
    refs = attention_backward_ref(do, q, k, v, causal)
    for name, g, ref in zip(("dq", "dk", "dv"), grads, refs):
        g = to_host(g)
        assert g.shape == shape and g.dtype == np.float32, name
        if shape[2] == 1 and name != "dv":  # S = 1: dq and dk are 0 (softmax over one key)
            assert np.abs(g).max() < 1e-6, name
            continue
        assert relative_error(g, ref) < 1e-4, name


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_attention_backward_chains_with_forward(rng, device):
    """Every backward version fed by every forward version (o, lse as the op produced them)."""
    q, k, v = qkv(rng, (2, 2, 67, 16))
    do = randn(rng, q.shape)
    args = [on_device(t, device) for t in (q, k, v)]
    refs = attention_backward_ref(do, q, k, v, True)
    for fv in versions("attention", device):
        o, lse = bs.ops.attention(*args, causal=True, impl=fv, return_lse=True)
        for bv in versions("attention_backward", device):
            grads = bs.ops.attention_backward(on_device(do, device), *args, o, lse, causal=True, impl=bv)
            for g, ref in zip(grads, refs):
                assert relative_error(to_host(g), ref) < 1e-4, (fv, bv)


def test_attention_backward_matches_finite_differences(rng):
    """Central differences of sum(do * attention(q, k, v)) in float64 (NumPy), against the
    analytic reference and every CPU version; tiny shape."""
    shape = (1, 2, 5, 3)
    q, k, v = qkv(rng, shape)
    do = randn(rng, shape)
    for causal in (False, True):
        def loss(qq, kk, vv):
            return float((attention_ref(qq, kk, vv, causal)[0] * do).sum())
        base = [q.astype(np.float64), k.astype(np.float64), v.astype(np.float64)]
        numeric = []
        for which in range(3):
            g = np.zeros(shape)
            for idx in np.ndindex(*shape):
                plus = [t.copy() for t in base]
                minus = [t.copy() for t in base]
                plus[which][idx] += 1e-6
                minus[which][idx] -= 1e-6
                g[idx] = (loss(*plus) - loss(*minus)) / 2e-6
            numeric.append(g)
        for g, ref in zip(numeric, attention_backward_ref(do, q, k, v, causal)):
            assert relative_error(g, ref) < 1e-6
        o, lse = (a.astype(np.float32) for a in attention_ref(q, k, v, causal))
        for version in versions("attention_backward", "cpu"):
            grads = bs.ops.attention_backward(do, q, k, v, o, lse, causal=causal, impl=version)
            for g, num in zip(grads, numeric):
                assert relative_error(g, num) < 1e-4, version


def test_attention_errors(rng):
    q, k, v = qkv(rng, (1, 2, 5, 4))
    with pytest.raises(bs.InvalidArgumentError, match=r"q must be 4-D .*got q.shape=\[2, 5, 4\]"):
        bs.ops.attention(q[0], k[0], v[0])
    with pytest.raises(bs.InvalidArgumentError, match=r"k.shape=\[1, 2, 6, 4\] must equal q.shape=\[1, 2, 5, 4\]"):
        bs.ops.attention(q, randn(rng, (1, 2, 6, 4)), v)
    with pytest.raises(bs.InvalidArgumentError, match=r"v.shape=\[1, 2, 5, 3\] must equal q.shape"):
        bs.ops.attention(q, k, randn(rng, (1, 2, 5, 3)))
    with pytest.raises(bs.InvalidArgumentError, match="q.dtype=float16 must be float32"):
        bs.ops.attention(q.astype(np.float16), k, v)
    with pytest.raises(bs.InvalidArgumentError, match="attention: scale=-1 must be a finite number > 0"):
        bs.ops.attention(q, k, v, scale=-1.0)
    with pytest.raises(bs.InvalidArgumentError, match="impl='v9'.*known: v1, v2"):
        bs.ops.attention(q, k, v, impl="v9")
    o, lse = bs.ops.attention(q, k, v, return_lse=True)
    with pytest.raises(bs.InvalidArgumentError, match=r"lse.shape=\[1, 2\] must be \[1, 2, 5\]"):
        bs.ops.attention_backward(q, q, k, v, o, lse[..., 0])
    with pytest.raises(bs.InvalidArgumentError, match=r"do.shape=\[1, 2, 4, 4\] must equal q.shape"):
        bs.ops.attention_backward(q[:, :, :4], q, k, v, o, lse)
    with pytest.raises(bs.InvalidArgumentError, match=r"attention_backward: o.shape=\[1, 2, 5, 3\]"):
        bs.ops.attention_backward(q, q, k, v, o[..., :3], lse)
    with pytest.raises(bs.InvalidArgumentError, match="attention_backward: k.dtype=int64 must be float32"):
        bs.ops.attention_backward(q, q, k.astype(np.int64), v, o, lse)


@pytest.mark.skipif(not CUDA, reason="no_cuda")
def test_attention_cuda_errors(rng):
    q, k, v = qkv(rng, (1, 1, 4, 257))
    with pytest.raises(bs.InvalidArgumentError, match="k is .* but q is .*one device"):
        bs.ops.attention(on_device(q, "cuda"), k, on_device(v, "cuda"))
    with pytest.raises(bs.UnsupportedError, match="head_dim=257 .* limit of 256"):
        bs.ops.attention(*(on_device(t, "cuda") for t in (q, k, v)), impl="v2")
    o = to_host(bs.ops.attention(*(on_device(t, "cuda") for t in (q, k, v)), impl="v1"))
    assert relative_error(o, attention_ref(q, k, v)[0]) < 1e-5


@pytest.mark.parametrize("device,version", all_versions("attention"))
def test_attention_empty_sequence(rng, device, version):
    q = np.empty((1, 2, 0, 4), np.float32)
    o, lse = bs.ops.attention(*(on_device(q, device) for _ in range(3)), impl=version, return_lse=True)
    assert to_host(o).shape == (1, 2, 0, 4) and to_host(lse).shape == (1, 2, 0)


def test_attention_returns_the_callers_array_kind(rng):
    q, k, v = qkv(rng, (1, 1, 3, 2))
    assert isinstance(bs.ops.attention(q, k, v), np.ndarray)
    t = bs.Tensor.from_numpy(q)
    o = bs.ops.attention(t, bs.Tensor.from_numpy(k), bs.Tensor.from_numpy(v))
    assert isinstance(o, bs.Tensor)


# ---- benchmark case families -------------------------------------------------------------------------------

CASES = [("attention", {"batch": 2, "heads": 3, "seq_len": 70, "head_dim": 16, "causal": False}),
         ("attention", {"batch": 1, "heads": 2, "seq_len": 65, "head_dim": 64, "causal": True}),
         ("attention_backward", {"batch": 2, "heads": 3, "seq_len": 70, "head_dim": 16, "causal": False}),
         ("attention_backward", {"batch": 1, "heads": 2, "seq_len": 65, "head_dim": 64, "causal": True})]


def test_attention_case_families_are_registered():
    families = {f["name"]: f for f in bs._core.case_families()}
    for name, params in CASES:
        assert set(params) | {"dtype"} == {p["name"] for p in families[name]["params"]}, name


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("case,params", CASES, ids=[f"{c}-causal{p['causal']}" for c, p in CASES])
def test_attention_cases_check_and_measure(device, case, params):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    b, h, s, d = params["batch"], params["heads"], params["seq_len"], params["head_dim"]
    flops = 4.0 * b * h * s * s * d * (0.5 if params["causal"] else 1.0) * (2.5 if case.endswith("backward") else 1)
    for version in versions(case, device):
        r = bs.measure(case, device=device, impl=version, settings=fast_settings(), **params)
        assert r.status == "ok", (version, r.status, getattr(r, "reasons", None), r.to_dict().get("error"))
        assert r.metrics["correctness"]["passed"], version
        assert r.counters["item_unit"] == "tokens"
        assert r.counters["flops"] == pytest.approx(flops)
        assert r.implementation == version


def test_attention_case_parameter_errors():
    with pytest.raises(bs.InvalidArgumentError, match="head_dim=0 must be >= 1"):
        bs.measure("attention", batch=1, heads=1, seq_len=4, head_dim=0, settings=fast_settings())
