"""Every registered version of every op against a simple reference, on fresh random
inputs (never zeros), including awkward shapes."""
from __future__ import annotations

import math

import numpy as np
import pytest

import benchsuite as bs

from op_helpers import (FLOAT_DTYPES, LOW_DTYPES, all_versions, as_f64, assert_close_to_exact, bf16_round, dtype_of,
                        make_input,
                        on_device, relative_error, round_to, to_host, versions, versions_on)
from conftest import CUDA, torch_cuda

DEVICES = ["cpu"] + (["cuda"] if CUDA else [])
# (3, 1500): 2 packs of 4 floats per thread of 256 in the CUDA register kernels (each pack
# count is its own kernel instance; 1000, 1024 and 4097 columns reach the others).
SHAPES_2D = [(1, 1), (1, 1000), (1000, 1), (3, 5), (17, 33), (64, 64), (129, 257), (0, 7), (7, 0), (3, 1500)]
MATMUL_SHAPES = [(1, 1, 1), (1, 100, 37), (100, 1, 37), (37, 100, 1), (5, 7, 3), (64, 64, 64),
                 (97, 130, 259), (6, 16, 256), (7, 17, 513), (0, 5, 3), (5, 0, 3), (4, 6, 0),
                 (3, 700, 300), (33, 3100, 300)]  # skinny rows (B streamed); column parts over 2 panels


def softmax_reference(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64)
    if x64.size == 0:
        return x64
    e = np.exp(x64 - x64.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("device,version", all_versions("softmax"))
@pytest.mark.parametrize("shape", SHAPES_2D + [(2, 3, 40)])
def test_softmax_versions(rng, device, version, shape):
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    y = to_host(bs.ops.softmax(on_device(x, device), impl=version))
    assert y.shape == x.shape
    assert relative_error(y, softmax_reference(x)) < 1e-5
    if x.size:
        np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-5)


def test_softmax_is_stable_for_large_inputs(rng):
    x = (rng.standard_normal((4, 50)) * 1e3).astype(np.float32)
    for version in versions("softmax", "cpu"):
        y = bs.ops.softmax(x, impl=version)
        assert np.all(np.isfinite(y)) and relative_error(y, softmax_reference(x)) < 1e-5


def matmul_f32_tolerance(version):
    """TF32 products keep 10 mantissa bits (relative error ~2^-11 per product)."""
    return 2e-3 if "tf32" in version else 1e-5


@pytest.mark.parametrize("device,version", all_versions("matmul", "float32"))
@pytest.mark.parametrize("m,n,k", MATMUL_SHAPES)
def test_matmul_versions_float32(rng, device, version, m, n, k):
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = to_host(bs.ops.matmul(on_device(a, device), on_device(b, device), impl=version))
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert c.shape == (m, n)
    if ref.size:
        assert relative_error(c, ref) < matmul_f32_tolerance(version)


def test_matmul_blocked_spans_several_panels(rng):
    # Larger than one KC (256) and MC (96) block with ragged edges in every dimension.
    a = rng.standard_normal((301, 517)).astype(np.float32)
    b = rng.standard_normal((517, 203)).astype(np.float32)
    c = bs.ops.matmul(a, b, impl="v2")
    assert relative_error(c, a.astype(np.float64) @ b) < 1e-5


def test_matmul_on_strided_input(rng):
    a = rng.standard_normal((40, 30)).astype(np.float32)[::2, ::3]  # 20 x 10, not contiguous
    b = rng.standard_normal((10, 12)).astype(np.float32)
    c = bs.ops.matmul(a, b)
    assert relative_error(c, a.astype(np.float64) @ b) < 1e-5


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_matmul_cublas_low_precision(rng, dtype):
    if not CUDA:
        pytest.skip("no_cuda")
    torch = torch_cuda()
    tdtype = getattr(torch, dtype)
    a = torch.randn(129, 257, device="cuda").to(tdtype)
    b = torch.randn(257, 65, device="cuda").to(tdtype)
    c = bs.ops.matmul(a, b, impl="cublas")
    assert isinstance(c, torch.Tensor) and c.dtype == tdtype
    ref = a.double() @ b.double()
    err = ((c.double() - ref).norm() / ref.norm()).item()
    assert err < (2e-3 if dtype == "float16" else 1e-2)


@pytest.mark.parametrize("device,version", all_versions("add"))
@pytest.mark.parametrize("n", [0, 1, 3, 1000, 4099])
def test_add_versions(rng, device, version, n):
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    out = to_host(bs.ops.add(on_device(a, device), on_device(b, device), impl=version))
    np.testing.assert_array_equal(out, a + b)


def test_add_unaligned_cuda_views(rng):
    if not CUDA:
        pytest.skip("no_cuda")
    torch = torch_cuda()
    a = torch.randn(1001, device="cuda")[1:]  # offset by 4 bytes: the scalar path
    b = torch.randn(1001, device="cuda")[1:]
    out = bs.ops.add(a, b)
    assert torch.equal(out, a + b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "uint8"])
def test_fill(device, dtype, rng):
    value = float(rng.integers(1, 100))
    t = bs.ops.fill((3, 5), value, dtype=dtype, device=device)
    out = to_host(t)
    assert out.dtype == np.dtype(dtype) and np.all(out == value)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_randn_distribution_and_seeds(rng, dtype):
    seed = int(rng.integers(0, 2**40))
    x = bs.ops.randn(200_000, seed=seed, dtype=dtype).numpy().astype(np.float64)
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    assert np.all(np.isfinite(x))
    same = bs.ops.randn(200_000, seed=seed, dtype=dtype).numpy()
    other = bs.ops.randn(200_000, seed=seed + 1, dtype=dtype).numpy()
    np.testing.assert_array_equal(same, x.astype(dtype))
    assert not np.array_equal(other, same)
    y = bs.ops.randn(1000, seed=seed, dtype="float32", mean=3.0, std=0.5).numpy()
    assert abs(y.mean() - 3) < 0.1 and abs(y.std() - 0.5) < 0.1


def test_uniform_range(rng):
    seed = int(rng.integers(0, 2**40))
    u = bs.ops.uniform(100_000, seed=seed, low=-2.0, high=3.0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0
    assert abs(u.mean() - 0.5) < 0.05


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_rng_same_numbers_on_cpu_and_cuda(rng, dtype):
    if not CUDA:
        pytest.skip("no_cuda")
    seed = int(rng.integers(0, 2**40))
    cpu = bs.ops.randn(10_001, seed=seed, dtype=dtype).numpy()
    gpu = bs.ops.randn(10_001, seed=seed, dtype=dtype, device="cuda").to("cpu").numpy()
    # Box-Muller runs in double on both sides: identical after rounding, bar the odd ulp
    assert np.mean(cpu != gpu) < 1e-3
    np.testing.assert_allclose(gpu.astype(np.float64), cpu.astype(np.float64), rtol=2e-3, atol=1e-6)


def test_op_argument_errors(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((5, 6)).astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match=r"a.shape=\[3, 4\] and b.shape=\[5, 6\]"):
        bs.ops.matmul(a, b)
    with pytest.raises(bs.InvalidArgumentError, match="must be at least 2-D"):
        bs.ops.matmul(a[0], b)
    with pytest.raises(bs.InvalidArgumentError, match=r"b.shape=\[2, 4\] must equal a.shape=\[3, 4\]"):
        bs.ops.add(a, a[:2])
    with pytest.raises(bs.InvalidArgumentError, match="impl='v9'.*known: v1, v2"):
        bs.ops.softmax(a, impl="v9")
    with pytest.raises(bs.InvalidArgumentError, match="x.dtype=int32 must be a floating type"):
        bs.ops.softmax(rng.integers(0, 5, (2, 2), dtype=np.int32))
    with pytest.raises(bs.UnsupportedError, match="matmul v2 on cpu: dtype=float16 is not supported") as info:
        bs.ops.matmul(rng.standard_normal((2, 2)).astype(np.float16), np.eye(2, dtype=np.float16), impl="v2")
    assert info.value.reason == "unsupported_dtype"
    with pytest.raises(bs.InvalidArgumentError, match="std=-1"):
        bs.ops.randn(3, std=-1.0)
    with pytest.raises(bs.InvalidArgumentError, match="seed=-5"):
        bs.ops.randn(3, seed=-5)
    with pytest.raises(bs.InvalidArgumentError, match="mean=nan"):
        bs.ops.randn(3, mean=float("nan"))


def test_ops_return_the_callers_array_kind(rng):
    x = rng.standard_normal((4, 8)).astype(np.float32)
    y = bs.ops.softmax(x)
    assert isinstance(y, np.ndarray)
    t = bs.ops.softmax(bs.Tensor.from_numpy(x))
    assert isinstance(t, bs.Tensor)


# ---- elementwise -------------------------------------------------------------------------

def gelu_reference(x):
    x = x.astype(np.float64)
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


_erf = np.vectorize(math.erf, otypes=[np.float64])  # NumPy has no erf; math.erf is exact to double


def gelu_erf_reference(x):
    x = np.asarray(x, np.float64)
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x.astype(np.float64), 0),
    "gelu": gelu_reference,
    "silu": lambda x: x.astype(np.float64) / (1 + np.exp(-x.astype(np.float64))),
}


@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(1,), (5, 7), (3, 4, 9), (64, 1024), (2, 1), (1, 1000), (0, 3)])
def test_binary_same_shape_and_row_broadcast(rng, op, device, shape):
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)
    row = rng.standard_normal(shape[-1]).astype(np.float32)
    fn = getattr(bs.ops, op)
    expect = (lambda u, v: u + v) if op == "add" else (lambda u, v: u * v)
    for v in versions(op, device):
        np.testing.assert_array_equal(to_host(fn(on_device(a, device), on_device(b, device), impl=v)), expect(a, b))
        np.testing.assert_array_equal(to_host(fn(on_device(a, device), on_device(row, device), impl=v)),
                                      expect(a, row))


def test_binary_bad_broadcast_names_shapes(rng):
    a = rng.standard_normal((4, 6)).astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match=r"b.shape=\[4\] must equal a.shape=\[4, 6\]"):
        bs.ops.mul(a, a[:, 0].copy())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("n", [0, 1, 5, 4096, 10007])
def test_axpy(rng, device, n):
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    alpha = float(rng.standard_normal())
    for v in versions("axpy", device):
        out = to_host(bs.ops.axpy(alpha, on_device(x, device), on_device(y, device), impl=v))
        np.testing.assert_allclose(out, np.float32(alpha) * x + y, rtol=1e-6, atol=1e-6)
    with pytest.raises(bs.InvalidArgumentError, match="alpha=nan"):
        bs.ops.axpy(float("nan"), x, y)


ACTIVATION_VERSIONS = [pytest.param(op, p.values[0], p.values[1], id=f"{op}-{p.id}")
                       for op in sorted(ACTIVATIONS) for p in all_versions(op)]


@pytest.mark.parametrize("op,device,version", ACTIVATION_VERSIONS)
@pytest.mark.parametrize("shape", [(1,), (3, 5), (1000, 33), (4099,)])
def test_activations_forward(rng, op, device, version, shape):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    y = to_host(getattr(bs.ops, op)(on_device(x, device), impl=version))
    ref = ACTIVATIONS[op](x)
    # float32 gelu/silu of large negative x cancel to 0 where the exact value is ~1e-9:
    # an absolute floor, as for any float32 implementation (PyTorch's included)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    if x.size >= 100:
        assert relative_error(y, ref) < 1e-6


@pytest.mark.parametrize("op", sorted(ACTIVATIONS))
@pytest.mark.parametrize("device", DEVICES)
def test_activations_backward_match_finite_differences(rng, op, device):
    x = (rng.standard_normal(2000) * 2).astype(np.float32)
    x = x[np.abs(x) > 1e-2]  # relu has no derivative at 0
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx = to_host(getattr(bs.ops, f"{op}_backward")(on_device(x, device), on_device(dy, device)))
    h = 1e-4
    x64 = x.astype(np.float64)
    numeric = (ACTIVATIONS[op](x64 + h) - ACTIVATIONS[op](x64 - h)) / (2 * h) * dy
    assert relative_error(dx, numeric) < 1e-5


# ---- reductions --------------------------------------------------------------------------

REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max}


@pytest.mark.parametrize("op", sorted(REDUCTIONS))
@pytest.mark.parametrize("device,version", all_versions("sum"))
@pytest.mark.parametrize("shape", [(1, 1), (1, 1000), (1000, 1), (17, 33), (64, 4097), (3, 4, 5), (7,)])
def test_reductions_last_axis_and_all(rng, op, device, version, shape):
    x = rng.standard_normal(shape).astype(np.float32) + 0.5
    fn = getattr(bs.ops, op)
    ref = REDUCTIONS[op](x.astype(np.float64), axis=-1)
    out = to_host(fn(on_device(x, device), impl=version))
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(x).sum(axis=-1).max() / x.shape[-1])
    total = to_host(fn(on_device(x, device), axis=None, impl=version))
    assert total.shape == ()
    assert abs(float(total) - REDUCTIONS[op](x.astype(np.float64))) <= 1e-6 * np.abs(x).sum() + 1e-6


@pytest.mark.parametrize("device,version", all_versions("sum"))
def test_long_sum_is_accurate(rng, device, version):
    # 2^24 + 3 values: a naive float32 running sum loses about 1e-4 relative here.
    x = rng.uniform(0.5, 1.5, (1 << 24) + 3).astype(np.float32)
    exact = x.astype(np.float64).sum()
    out = float(to_host(bs.ops.sum(on_device(x, device), axis=None, impl=version)))
    assert abs(out - exact) / exact < 2e-7


def test_reduction_edge_cases(rng):
    empty_rows = np.empty((3, 0), dtype=np.float32)
    np.testing.assert_array_equal(bs.ops.sum(empty_rows), np.zeros(3))
    assert np.all(np.isnan(bs.ops.mean(empty_rows)))
    with pytest.raises(bs.InvalidArgumentError, match="last axis is empty"):
        bs.ops.max(empty_rows)
    with pytest.raises(bs.InvalidArgumentError, match="axis=0 is not supported"):
        bs.ops.sum(rng.standard_normal((2, 2)).astype(np.float32), axis=0)


# ---- normalisations, forward and backward -----------------------------------------------------

NORM_SHAPES = [(1, 1), (1, 1000), (1000, 1), (3, 5), (17, 257), (2, 3, 64), (256, 1024), (3, 1500)]


def layernorm_ref(x, g, b, eps):
    x = x.astype(np.float64)
    mean = x.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + eps)
    return (x - mean) * rstd * g + b, mean[..., 0], rstd[..., 0]


def rmsnorm_ref(x, g, eps):
    x = x.astype(np.float64)
    rstd = 1 / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return x * rstd * g, rstd[..., 0]


def numeric_grad(f, x, dy, h=1e-3):
    """d/dx of sum(f(x) * dy) by central differences, in double."""
    x = x.astype(np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        grad[i] = ((f(xp) - f(xm)) * dy).sum() / (2 * h)
    return grad


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_layernorm_forward(rng, device, shape):
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    g = rng.standard_normal(shape[-1]).astype(np.float32)
    b = rng.standard_normal(shape[-1]).astype(np.float32)
    ref_y, ref_mean, ref_rstd = layernorm_ref(x, g, b, 1e-5)
    for v in versions_on("layernorm", device):
        y, mean, rstd = (to_host(t) for t in bs.ops.layernorm(on_device(x, device), on_device(g, device),
                                                              on_device(b, device), impl=v, return_stats=True))
        assert relative_error(y, ref_y) < 1e-5, v
        assert relative_error(mean, ref_mean) < 1e-5 and relative_error(rstd, ref_rstd) < 1e-5, v


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_rmsnorm_forward(rng, device, shape):
    x = (rng.standard_normal(shape) * 2).astype(np.float32)
    g = rng.standard_normal(shape[-1]).astype(np.float32)
    ref_y, ref_rstd = rmsnorm_ref(x, g, 1e-6)
    for v in versions_on("rmsnorm", device):
        y, rstd = (to_host(t) for t in bs.ops.rmsnorm(on_device(x, device), on_device(g, device), impl=v,
                                                      return_stats=True))
        assert relative_error(y, ref_y) < 1e-5 and relative_error(rstd, ref_rstd) < 1e-5, v


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("shape", [(1, 7), (5, 9), (2, 3, 6)])
def test_norm_backwards_match_finite_differences(rng, device, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape[-1]).astype(np.float32)
    b = rng.standard_normal(shape[-1]).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    dev = lambda a: on_device(a, device)  # noqa: E731
    _, mean, rstd = bs.ops.layernorm(dev(x), dev(g), dev(b), return_stats=True)
    num_dx = numeric_grad(lambda xx: layernorm_ref(xx, g, b, 1e-5)[0], x, dy)
    num_dg = numeric_grad(lambda gg: layernorm_ref(x, gg, b, 1e-5)[0], g, dy)
    for v in versions_on("layernorm_backward", device):
        dx, dg, db = (to_host(t) for t in bs.ops.layernorm_backward(dev(dy), dev(x), dev(g), mean, rstd, impl=v))
        assert relative_error(dx, num_dx) < 1e-4, v
        assert relative_error(dg, num_dg) < 1e-4, v
        assert relative_error(db, dy.astype(np.float64).reshape(-1, shape[-1]).sum(0)) < 1e-5, v
    _, rstd = bs.ops.rmsnorm(dev(x), dev(g), return_stats=True)
    num_dx = numeric_grad(lambda xx: rmsnorm_ref(xx, g, 1e-6)[0], x, dy)
    num_dg = numeric_grad(lambda gg: rmsnorm_ref(x, gg, 1e-6)[0], g, dy)
    for v in versions_on("rmsnorm_backward", device):
        dx, dg = (to_host(t) for t in bs.ops.rmsnorm_backward(dev(dy), dev(x), dev(g), rstd, impl=v))
        assert relative_error(dx, num_dx) < 1e-4 and relative_error(dg, num_dg) < 1e-4, v


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_log_softmax_and_softmax_backward(rng, device, shape):
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    ref_log = np.log(softmax_reference(x))
    for v in versions_on("log_softmax", device):
        assert relative_error(to_host(bs.ops.log_softmax(on_device(x, device), impl=v)), ref_log) < 1e-5, v
    y = softmax_reference(x)
    ref_dx = y * (dy - (dy * y).sum(-1, keepdims=True))
    for v in versions_on("softmax_backward", device):
        dx = to_host(bs.ops.softmax_backward(on_device(y.astype(np.float32), device), on_device(dy, device), impl=v))
        assert relative_error(dx, ref_dx) < 1e-5, v
    ref_dx = dy - np.exp(ref_log) * dy.astype(np.float64).sum(-1, keepdims=True)
    for v in versions_on("log_softmax_backward", device):
        dx = to_host(bs.ops.log_softmax_backward(on_device(ref_log.astype(np.float32), device),
                                                 on_device(dy, device), impl=v))
        assert relative_error(dx, ref_dx) < 1e-5, v


def test_norm_argument_errors(rng):
    x = rng.standard_normal((4, 8)).astype(np.float32)
    g = rng.standard_normal(8).astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match=r"gamma.shape=\[7\] must be \[8\]"):
        bs.ops.layernorm(x, g[:7].copy(), g)
    with pytest.raises(bs.InvalidArgumentError, match="eps=-1"):
        bs.ops.rmsnorm(x, g, eps=-1.0)
    with pytest.raises(bs.InvalidArgumentError, match=r"rstd.shape=\[3\] must be x.shape\[:-1\]=\[4\]"):
        bs.ops.rmsnorm_backward(x, x, g, g[:3].copy())
    with pytest.raises(bs.InvalidArgumentError, match=r"dy.shape=\[4, 7\] must equal y.shape=\[4, 8\]"):
        bs.ops.softmax_backward(x, x[:, :7].copy())


def _philox4x32_10(counter, key):
    """Philox4x32-10 in plain Python: the documented generator behind randn/uniform."""
    m0, m1, w0, w1, mask = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85, 0xFFFFFFFF
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0, p1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & mask, p1 & mask, ((p0 >> 32) ^ c3 ^ k1) & mask, p0 & mask
        k0, k1 = (k0 + w0) & mask, (k1 + w1) & mask
    return c0, c1, c2, c3


def _normal(seed, index):
    import math
    block = index // 4
    words = _philox4x32_10((block & 0xFFFFFFFF, block >> 32, 0, 0), (seed & 0xFFFFFFFF, seed >> 32))
    lane = index % 4
    a, b = (words[0], words[1]) if lane < 2 else (words[2], words[3])
    u1 = (a + 1.0) * 2.3283064365386963e-10
    u2 = b * 2.3283064365386963e-10
    radius = math.sqrt(-2.0 * math.log(u1))
    angle = 6.283185307179586 * u2
    return np.float32(radius * (math.sin(angle) if lane & 1 else math.cos(angle)))


def test_randn_is_the_documented_counter_based_stream(rng):
    seed = int(rng.integers(0, 2**63))
    n = 1003
    x = bs.ops.randn(n, seed=seed).numpy()
    for i in list(range(9)) + [int(i) for i in rng.integers(0, n, 20)] + [n - 1]:
        assert x[i] == _normal(seed, i), i


# ---- cast and low-precision / batched matmul ------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_cast_round_trips_and_rounding(rng, device):
    x = (rng.standard_normal(1001) * 10).astype(np.float32)
    src = on_device(x, device)
    half = to_host(bs.ops.cast(bs.ops.cast(src, "float16"), "float32"))
    np.testing.assert_array_equal(half, x.astype(np.float16).astype(np.float32))  # NumPy rounds to nearest even
    bf = to_host(bs.ops.cast(bs.ops.cast(src, "bfloat16"), "float32"))
    bits = x.view(np.uint32)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).view(np.float32)  # round-to-nearest-even bf16
    np.testing.assert_array_equal(bf, rounded)
    ints = to_host(bs.ops.cast(src, "int32"))
    np.testing.assert_array_equal(ints, x.astype(np.int32))


def bf16_round(x: np.ndarray) -> np.ndarray:
    bits = x.astype(np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).view(np.float32)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (5, 7, 3), (33, 17, 65)])
def test_matmul_reference_low_precision(rng, dtype, m, n, k):
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    a_low, b_low = bs.ops.cast(a, dtype), bs.ops.cast(b, dtype)
    c = bs.ops.cast(bs.ops.matmul(a_low, b_low, impl="v1"), "float32").numpy()
    rnd = (lambda v: v.astype(np.float16).astype(np.float64)) if dtype == "float16" else \
        (lambda v: bf16_round(v).astype(np.float64))
    ref = rnd(a) @ rnd(b)
    assert relative_error(c, ref) < (2e-3 if dtype == "float16" else 1e-2)
    assert relative_error(c, ref) > 0 or m * n * k == 1  # it really is rounded to the output type


@pytest.mark.parametrize("device,version", all_versions("matmul", "float32"))
@pytest.mark.parametrize("a_shape,b_shape", [((3, 5, 7), (3, 7, 4)), ((2, 3, 6, 5), (2, 3, 5, 9)),
                                             ((4, 33, 17), (17, 9)), ((1, 1, 1), (1, 1, 1)), ((0, 4, 5), (5, 3))])
def test_matmul_batched_and_shared_weight(rng, device, version, a_shape, b_shape):
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    c = to_host(bs.ops.matmul(on_device(a, device), on_device(b, device), impl=version))
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert c.shape == ref.shape
    if ref.size:
        assert relative_error(c, ref) < matmul_f32_tolerance(version)


def test_matmul_batch_mismatch_is_named(rng):
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4, 5)).astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match="batch dimensions"):
        bs.ops.matmul(a, b)


@pytest.mark.parametrize("device,version", all_versions("max"))
def test_max_propagates_nan_like_numpy(rng, device, version):
    x = rng.standard_normal((4, 37)).astype(np.float32)
    x[2, 11] = np.nan
    out = to_host(bs.ops.max(on_device(x, device), impl=version))
    np.testing.assert_array_equal(np.isnan(out), [False, False, True, False])
    np.testing.assert_array_equal(out[[0, 1, 3]], x[[0, 1, 3]].max(axis=1))
    assert np.isnan(float(to_host(bs.ops.max(on_device(x, device), axis=None, impl=version))))


# ---- float16 / bfloat16 (and float32 through the same checks) --------------------------------
# Every version x every dtype it lists, against the exact result computed in float64 from
# the up-converted inputs (op_helpers.assert_close_to_exact). CUDA versions are listed
# whenever the build has CUDA and skip without a device.

def dtype_versions(*ops: str, dtypes=FLOAT_DTYPES) -> list:
    """(op, device, version, dtype) for every registered version and every dtype it supports."""
    return [pytest.param(op, v["device"], v["version"], d, id=f"{op}-{v['device']}-{v['version']}-{d}")
            for op in ops for dev in ("cpu", "cuda") for v in bs.ops.versions(op, dev)
            for d in dtypes if d in v["dtypes"]]


def skip_without(device: str) -> None:
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")


def low(x, dtype: str) -> np.ndarray:
    """float data rounded to `dtype` (the values the op will see), as float64."""
    return round_to(np.asarray(x, dtype=np.float32), dtype)


# 1xN, Nx1, odd widths (1, 7, 1000, 4097: row starts not 16-byte aligned for odd widths),
# empty, 3-D, and widths past the CUDA register kernels (8192 floats / 16384 halves).
# (2, 3000): 2 packs of 8 halves per thread of 256 in the CUDA register kernels
ROW_SHAPES_16 = [(1, 1), (1, 7), (7, 1), (3, 1000), (2, 4097), (0, 7), (5, 0), (2, 3, 40), (2, 16500), (2, 3000)]


def _softmax64(x):
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax64(x):
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("softmax", "log_softmax"))
@pytest.mark.parametrize("shape", ROW_SHAPES_16)
def test_softmax_family_dtypes(rng, op, device, version, dtype, shape):
    skip_without(device)
    x = rng.standard_normal(shape) * 3
    y = getattr(bs.ops, op)(make_input(x, dtype, device), impl=version)
    assert dtype_of(y) == dtype
    xl = low(x, dtype)
    exact = (_softmax64 if op == "softmax" else _log_softmax64)(xl)
    terms = None if op == "softmax" else np.abs(xl) + np.abs(xl - exact)  # y = x - shift
    assert_close_to_exact(y, exact, dtype, f"{op} {device} {version}", terms)


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("softmax_backward", "log_softmax_backward"))
@pytest.mark.parametrize("shape", ROW_SHAPES_16)
def test_softmax_backward_family_dtypes(rng, op, device, version, dtype, shape):
    skip_without(device)
    x = rng.standard_normal(shape) * 3
    # y as training passes it: the forward's output, stored in the dtype
    y = low((_softmax64 if op == "softmax_backward" else _log_softmax64)(x), dtype)
    dy = low(rng.standard_normal(shape), dtype)
    dx = getattr(bs.ops, op)(make_input(y, dtype, device), make_input(dy, dtype, device), impl=version)
    if op == "softmax_backward":
        dot = (dy * y).sum(-1, keepdims=True)
        exact, terms = y * (dy - dot), y * (np.abs(dy) + np.abs(dot))
    else:
        total = dy.sum(-1, keepdims=True)
        exact, terms = dy - np.exp(y) * total, np.abs(dy) + np.exp(y) * np.abs(total)
    assert_close_to_exact(dx, exact, dtype, f"{op} {device} {version}", terms)


ACT = {"relu": lambda x: np.maximum(x, 0), "gelu": lambda x: gelu_reference(x),
       "silu": lambda x: x / (1 + np.exp(-x)), "gelu_erf": gelu_erf_reference, "tanh": np.tanh}
ACT_GRAD = {
    "relu": lambda x: (x > 0).astype(np.float64),
    "gelu": lambda x: (lambda k, t: 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))(
        np.sqrt(2 / np.pi), np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    "silu": lambda x: (lambda s: s * (1 + x * (1 - s)))(1 / (1 + np.exp(-x))),
    "gelu_erf": lambda x: 0.5 * (1 + _erf(np.asarray(x, np.float64) / math.sqrt(2)))
    + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
}
FLAT_SIZES = [0, 1, 7, 1000, 4097, 40000]


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("relu", "gelu", "silu", "gelu_erf", "tanh"))
@pytest.mark.parametrize("n", FLAT_SIZES)
def test_activations_dtypes(rng, op, device, version, dtype, n):
    skip_without(device)
    x = rng.standard_normal(n) * 3
    y = getattr(bs.ops, op)(make_input(x, dtype, device), impl=version)
    assert dtype_of(y) == dtype
    xl = low(x, dtype)
    # gelu/silu of large negative x: 1 + tanh (or the sigmoid) cancels in fp32
    assert_close_to_exact(y, ACT[op](xl), dtype, f"{op} {device} {version}", xl)


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("relu_backward", "gelu_backward", "silu_backward",
                                                             "gelu_erf_backward", "tanh_backward"))
@pytest.mark.parametrize("n", FLAT_SIZES)
def test_activation_backwards_dtypes(rng, op, device, version, dtype, n):
    skip_without(device)
    x, dy = low(rng.standard_normal(n) * 3, dtype), low(rng.standard_normal(n), dtype)
    dx = getattr(bs.ops, op)(make_input(x, dtype, device), make_input(dy, dtype, device), impl=version)
    assert_close_to_exact(dx, dy * ACT_GRAD[op.removesuffix("_backward")](x), dtype, f"{op} {device} {version}",
                          2 * dy)


BINARY_SHAPES_16 = [(0, 3), (1, 1), (1, 7), (7, 1), (3, 1000), (5, 4097), (64, 1024)]


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("add", "mul"))
@pytest.mark.parametrize("shape", BINARY_SHAPES_16)
def test_binary_dtypes_same_shape_and_row(rng, op, device, version, dtype, shape):
    skip_without(device)
    a, b = low(rng.standard_normal(shape), dtype), low(rng.standard_normal(shape), dtype)
    row = low(rng.standard_normal(shape[-1]), dtype)
    fn = getattr(bs.ops, op)
    combine = np.add if op == "add" else np.multiply
    out = fn(make_input(a, dtype, device), make_input(b, dtype, device), impl=version)
    assert dtype_of(out) == dtype
    assert_close_to_exact(out, combine(a, b), dtype, f"{op} {device} {version}", np.abs(a) + np.abs(b))
    out = fn(make_input(a, dtype, device), make_input(row, dtype, device), impl=version)
    assert_close_to_exact(out, combine(a, row), dtype, f"{op} {device} {version} (row)", np.abs(a) + np.abs(row))


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("axpy"))
@pytest.mark.parametrize("n", FLAT_SIZES)
def test_axpy_dtypes(rng, op, device, version, dtype, n):
    skip_without(device)
    x, y = low(rng.standard_normal(n), dtype), low(rng.standard_normal(n), dtype)
    alpha = float(np.float32(rng.standard_normal()))
    out = bs.ops.axpy(alpha, make_input(x, dtype, device), make_input(y, dtype, device), impl=version)
    assert_close_to_exact(out, alpha * x + y, dtype, f"axpy {device} {version}", np.abs(alpha * x) + np.abs(y))


REDUCE_SHAPES_16 = [(1, 1), (1, 7), (7, 1), (3, 1000), (2, 4097), (3, 0), (1, 70000), (3, 30001)]
REDUCE64 = {"sum": np.sum, "mean": np.mean, "max": np.max}


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("sum", "mean", "max"))
@pytest.mark.parametrize("shape", REDUCE_SHAPES_16)
def test_reductions_dtypes(rng, op, device, version, dtype, shape):
    skip_without(device)
    # a small positive offset: sums do not cancel to ~0, and 90k float16 values stay far from 65504
    x = low(rng.standard_normal(shape) + 0.05, dtype)
    fn = getattr(bs.ops, op)
    if op == "max" and shape[-1] == 0:
        with pytest.raises(bs.InvalidArgumentError, match="last axis is empty"):
            fn(make_input(x, dtype, device), impl=version)
        return
    rows = fn(make_input(x, dtype, device), impl=version)
    assert dtype_of(rows) == dtype
    if op == "mean" and shape[-1] == 0:
        assert np.all(np.isnan(as_f64(rows)))
    else:
        assert_close_to_exact(rows, REDUCE64[op](x, axis=-1), dtype, f"{op} {device} {version} rows",
                              REDUCE64[op](np.abs(x), axis=-1))
    if x.size:
        total = fn(make_input(x, dtype, device), axis=None, impl=version)
        assert as_f64(total).shape == ()
        assert_close_to_exact(np.atleast_1d(as_f64(total)), np.atleast_1d(REDUCE64[op](x)), dtype,
                              f"{op} {device} {version} all", np.atleast_1d(REDUCE64[op](np.abs(x))))


NORM_SHAPES_16 = [(1, 1), (1, 7), (7, 1), (3, 1000), (2, 4097), (0, 5), (2, 3, 64), (2, 16500), (2, 3000)]


def _layernorm64(x, g, b, eps):
    mean = x.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + eps)
    return (x - mean) * rstd * g + b, mean[..., 0], rstd[..., 0]


def _rmsnorm64(x, g, eps):
    rstd = 1 / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return x * rstd * g, rstd[..., 0]


def _stat_f32(t) -> np.ndarray:
    assert dtype_of(t) == "float32", "saved statistics are float32 for every dtype"
    return as_f64(t)


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("layernorm", "rmsnorm"))
@pytest.mark.parametrize("shape", NORM_SHAPES_16)
def test_norms_forward_dtypes(rng, op, device, version, dtype, shape):
    skip_without(device)
    x = low(rng.standard_normal(shape) * 2 + 1, dtype)
    g, b = low(rng.standard_normal(shape[-1]), dtype), low(rng.standard_normal(shape[-1]), dtype)
    dev = lambda a: make_input(a, dtype, device)  # noqa: E731
    if op == "layernorm":
        y, mean, rstd = bs.ops.layernorm(dev(x), dev(g), dev(b), impl=version, return_stats=True)
        ref_y, ref_mean, ref_rstd = _layernorm64(x, g, b, 1e-5)
        # statistics are float32 (not rounded to the dtype): the float32 bound
        assert_close_to_exact(_stat_f32(mean), ref_mean, "float32" if dtype == "float32" else dtype, "mean")
    else:
        y, rstd = bs.ops.rmsnorm(dev(x), dev(g), impl=version, return_stats=True)
        ref_y, ref_rstd = _rmsnorm64(x, g, 1e-6)
    assert dtype_of(y) == dtype
    xhat_g = ref_y - (b if op == "layernorm" else 0)
    assert_close_to_exact(y, ref_y, dtype, f"{op} {device} {version} y", np.abs(xhat_g) + np.abs(b))
    if ref_rstd.size:
        assert relative_error(_stat_f32(rstd), ref_rstd) < 1e-5


@pytest.mark.parametrize("op,device,version,dtype", dtype_versions("layernorm_backward", "rmsnorm_backward"))
@pytest.mark.parametrize("shape", NORM_SHAPES_16)
def test_norms_backward_dtypes(rng, op, device, version, dtype, shape):
    skip_without(device)
    x = low(rng.standard_normal(shape) * 2 + 1, dtype)
    g = low(rng.standard_normal(shape[-1]), dtype)
    dy = low(rng.standard_normal(shape), dtype)
    dev = lambda a: make_input(a, dtype, device)  # noqa: E731
    stat = lambda a: on_device(np.ascontiguousarray(a, dtype=np.float32), device)  # noqa: E731
    cols = shape[-1]
    x2, dy2 = x.reshape(-1, cols), dy.reshape(-1, cols)
    if op == "layernorm_backward":
        _, mean, rstd = _layernorm64(x2, g, 0, 1e-5)
        mean, rstd = mean.astype(np.float32).astype(np.float64), rstd.astype(np.float32).astype(np.float64)
        xhat = (x2 - mean[:, None]) * rstd[:, None]
        gg = dy2 * g
        exact_dx = rstd[:, None] * (gg - gg.mean(-1, keepdims=True) - xhat * (gg * xhat).mean(-1, keepdims=True))
        outs = bs.ops.layernorm_backward(dev(dy), dev(x), dev(g), stat(mean.reshape(shape[:-1])),
                                         stat(rstd.reshape(shape[:-1])), impl=version)
        exact = [exact_dx.reshape(shape), (dy2 * xhat).sum(0), dy2.sum(0)]
        terms = [(rstd[:, None] * (np.abs(gg) + np.abs(gg).mean(-1, keepdims=True))).reshape(shape),
                 np.abs(dy2 * xhat).sum(0), np.abs(dy2).sum(0)]
    else:
        _, rstd = _rmsnorm64(x2, g, 1e-6)
        rstd = rstd.astype(np.float32).astype(np.float64)
        xhat = x2 * rstd[:, None]
        gg = dy2 * g
        exact_dx = rstd[:, None] * (gg - xhat * (gg * xhat).mean(-1, keepdims=True))
        outs = bs.ops.rmsnorm_backward(dev(dy), dev(x), dev(g), stat(rstd.reshape(shape[:-1])), impl=version)
        exact = [exact_dx.reshape(shape), (dy2 * xhat).sum(0)]
        terms = [(rstd[:, None] * (np.abs(gg) + np.abs(gg).mean(-1, keepdims=True))).reshape(shape),
                 np.abs(dy2 * xhat).sum(0)]
    for name, got, want, mag in zip(("dx", "dgamma", "dbeta"), outs, exact, terms):
        assert dtype_of(got) == dtype, name
        assert_close_to_exact(got, want, dtype, f"{op} {device} {version} {name}", mag)


@pytest.mark.parametrize("dtype", LOW_DTYPES)
def test_cuda_misaligned_rows_take_the_element_path(rng, dtype):
    """Contiguous 16-bit views starting 2 bytes into an allocation: every row pointer is
    misaligned, so the CUDA row kernels must not issue 16-byte loads (compute-sanitizer
    memcheck would flag them; the values must match all the same)."""
    if not CUDA:
        pytest.skip("no_cuda")
    rows, cols = 5, 1024
    x = low(rng.standard_normal(rows * cols + 1) * 2, dtype)
    t = bs.ops.reshape(bs.ops.slice(make_input(x, dtype, "cuda"), 0, 1, None), (rows, cols))
    body = x[1:].reshape(rows, cols)
    for v in versions("softmax", "cuda"):
        assert_close_to_exact(bs.ops.softmax(t, impl=v), _softmax64(body), dtype, f"softmax {v}")
    assert_close_to_exact(bs.ops.sum(t), body.sum(-1), dtype, "sum rows")
    assert_close_to_exact(np.atleast_1d(as_f64(bs.ops.sum(t, axis=None))), [body.sum()], dtype, "sum all")
    assert_close_to_exact(bs.ops.gelu(t), ACT["gelu"](body), dtype, "gelu")
    assert_close_to_exact(bs.ops.add(t, t), body + body, dtype, "add")
    g = make_input(np.ones(cols), dtype, "cuda")
    for v in versions("layernorm", "cuda"):
        y = bs.ops.layernorm(t, g, make_input(np.zeros(cols), dtype, "cuda"), impl=v)
        assert_close_to_exact(y, _layernorm64(body, 1.0, 0.0, 1e-5)[0], dtype, f"layernorm {v}")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", LOW_DTYPES)
def test_low_precision_round_trip_through_the_cpu_conversions(rng, device, dtype):
    """Edge values: signed zeros, subnormals, the largest finite float16, inf and NaN pass
    through relu's identity region and add(x, 0) bit-exactly as values."""
    vals = np.array([0.0, -0.0, 1.0, -1.5, 6e-8, 1e-5, 65504.0, np.inf, 3.0e38, np.nan], dtype=np.float32)
    if dtype == "float16":
        vals = vals[vals != 3.0e38]
    x = make_input(vals, dtype, device)
    zeros = make_input(np.zeros_like(vals), dtype, device)
    got = as_f64(bs.ops.add(x, zeros))
    want = low(vals, dtype)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~np.isnan(want)], want[~np.isnan(want)])


def test_versions_list_their_dtypes():
    for op in ["add", "mul", "axpy", "relu", "gelu_backward", "sum", "mean", "max", "softmax", "softmax_backward",
               "log_softmax", "log_softmax_backward", "layernorm", "layernorm_backward", "rmsnorm",
               "rmsnorm_backward"]:
        vs = bs.ops.versions(op)
        assert vs, op
        for v in vs:  # the CPU references also take float64 (double math end to end)
            want = FLOAT_DTYPES + ["float64"] if v["reference"] and v["device"] == "cpu" else FLOAT_DTYPES
            assert v["dtypes"] in (FLOAT_DTYPES, want), (op, v["version"], v["dtypes"])


def test_unsupported_dtype_names_op_version_and_dtype(rng):
    x = rng.standard_normal((4, 8)).astype(np.float16)
    with pytest.raises(bs.UnsupportedError, match=r"matmul v2 on cpu: dtype=float16 is not supported "
                                                  r"\(supported: float32\)") as info:
        bs.ops.matmul(x, x.T.copy(), impl="v2")
    assert info.value.reason == "unsupported_dtype"
    # the default picks a version that supports the dtype (the v1 reference here)
    assert bs.ops.matmul(x, x.T.copy()).dtype == np.float16
    # a case of that version is a skipped record naming the same
    r = bs.measure("matmul", m=4, n=4, k=4, dtype="float16", device="cpu", impl="v2",
                   settings=bs.HarnessSettings(min_samples=1, max_samples=1, min_time=0.0, max_noise=None,
                                               warmup=0))
    assert r.status == "skipped" and r.reason == "unsupported_dtype"
    # integer inputs are not a dtype any of these ops has a version for
    with pytest.raises(bs.InvalidArgumentError, match="x.dtype=int32 must be a floating type"):
        bs.ops.layernorm(rng.integers(0, 5, (2, 4), dtype=np.int32), np.ones(4, np.int32), np.ones(4, np.int32))


def test_norm_backward_wants_float32_stats(rng):
    x = rng.standard_normal((3, 8)).astype(np.float16)
    g = rng.standard_normal(8).astype(np.float16)
    _, mean, rstd = bs.ops.layernorm(x, g, g, return_stats=True)
    assert mean.dtype == np.float32 and rstd.dtype == np.float32
    with pytest.raises(bs.InvalidArgumentError, match="rstd is .*float16.* must be float32"):
        bs.ops.rmsnorm_backward(x, x, g, rstd.astype(np.float16))
    with pytest.raises(bs.InvalidArgumentError, match="gamma is .*float32.* but x is .*float16"):
        bs.ops.layernorm(x, g.astype(np.float32), g)


# ---- benchmark cases and peers in 16-bit dtypes -------------------------------------------

def _one_shot():
    return bs.HarnessSettings(warmup=0, min_samples=1, max_samples=2, min_time=0.0, max_noise=None, timeout=5.0,
                              min_sample_time=1e-5)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("dtype", LOW_DTYPES)
@pytest.mark.parametrize("case,params,read,written", [
    ("add", {"n": 1000}, 2 * 1000, 1000),
    ("gelu", {"n": 1000}, 1000, 1000),
    ("sum", {"rows": 6, "cols": 100, "all": False}, 600, 6),
    ("softmax", {"rows": 6, "cols": 100}, 600, 600),
    ("log_softmax_backward", {"rows": 6, "cols": 100}, 1200, 600),
])
def test_cases_in_low_precision_check_and_count_bytes(device, dtype, case, params, read, written):
    skip_without(device)
    for v in bs.ops.versions(case, device):
        r = bs.measure(case, device=device, impl=v["version"], dtype=dtype, settings=_one_shot(), **params)
        assert r.status in ("ok", "invalid"), (case, v["version"], r.status, r.reason, r.error)
        assert r.metrics["correctness"]["passed"], r.metrics["correctness"]
        assert r.counters["bytes_read"] == 2 * read and r.counters["bytes_written"] == 2 * written


@pytest.mark.parametrize("dtype", LOW_DTYPES)
@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("rms", [False, True])
def test_norm_cases_count_float32_stats(dtype, backward, rms):
    rows, cols = 8, 96
    case = ("rmsnorm" if rms else "layernorm") + ("_backward" if backward else "")
    r = bs.measure(case, rows=rows, cols=cols, dtype=dtype, device="cpu", settings=_one_shot())
    assert r.metrics["correctness"]["passed"], r.metrics["correctness"]
    matrix, vec, stats = 2 * rows * cols, 2 * cols, 4 * rows
    n_stats, n_vec = (1, 1) if rms else (2, 2)
    if backward:
        assert r.counters["bytes_read"] == 2 * matrix + vec + n_stats * stats
        assert r.counters["bytes_written"] == matrix + n_vec * vec
    else:
        assert r.counters["bytes_read"] == matrix + n_vec * vec
        assert r.counters["bytes_written"] == matrix + n_stats * stats


def test_numpy_peer_skips_bfloat16_and_computes_float16_in_float16():
    from benchsuite.peers import PEERS, measure_peers
    from conftest import fast_settings
    out = measure_peers("softmax", {"rows": 4, "cols": 8, "dtype": "bfloat16"}, "cpu", 1e-3, fast_settings())
    assert out["numpy"]["status"] == "skipped"
    assert out["numpy"]["reason"] == "unsupported_dtype: numpy has no bfloat16"
    for case, params in [("softmax", {"rows": 4, "cols": 8}), ("layernorm", {"rows": 4, "cols": 8}),
                         ("rmsnorm", {"rows": 4, "cols": 8}), ("gelu", {"n": 16}), ("silu", {"n": 16}),
                         ("add", {"n": 16}), ("axpy", {"n": 16}), ("sum", {"rows": 4, "cols": 8, "all": True}),
                         ("log_softmax_backward", {"rows": 4, "cols": 8})]:
        fn = PEERS[case]["cpu"]["numpy"][1]({**params, "dtype": "float16"}, "cpu")
        assert np.asarray(fn()).dtype == np.float16, case
    out = measure_peers("layernorm", {"rows": 4, "cols": 8, "dtype": "float16"}, "cpu", 1e-3, fast_settings())
    assert out["numpy"]["status"] in ("ok", "invalid"), out


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", LOW_DTYPES)
def test_low_precision_outputs_round_to_nearest_even(rng, device, dtype):
    """add computes a + b in fp32 and rounds once, ties to even: bit for bit NumPy's float16
    cast of the float32 sum, or bf16_round of it (CPU: F16C / AVX2 conversions; CUDA:
    __float2half_rn / __float2bfloat16_rn)."""
    a, b = (rng.standard_normal(100_003) * 30).astype(np.float32), (rng.standard_normal(100_003) * 30).astype(np.float32)
    a, b = low(a, dtype).astype(np.float32), low(b, dtype).astype(np.float32)
    exact = a + b  # the float32 sum both sides round
    got = as_f64(bs.ops.add(make_input(a, dtype, device), make_input(b, dtype, device)))
    want = exact.astype(np.float16) if dtype == "float16" else bf16_round(exact)
    np.testing.assert_array_equal(got, want.astype(np.float64))


# ---- float64: the CPU references (v1) in double end to end -----------------------------------
# What the finite-difference gradient checks run on (tests/test_autograd.py): each op's v1 on
# float64 input keeps double storage (saved statistics too), agrees with NumPy's double formula
# to 1e-12 and with the same v1 on the same values in float32 to float precision; the other
# versions refuse float64 by name.

def _f64_vs_f32(fn, *arrays, **kwargs):
    """fn(*arrays) in float64 and in float32 (the same values), both on v1, as float64 lists."""
    outs64 = fn(*arrays, impl="v1", **kwargs)
    outs32 = fn(*(a.astype(np.float32) for a in arrays), impl="v1", **kwargs)
    outs64, outs32 = (list(o) if isinstance(o, tuple) else [o] for o in (outs64, outs32))
    for o64, o32 in zip(outs64, outs32):
        assert np.asarray(o64).dtype == np.float64
        assert relative_error(o64, np.asarray(o32, np.float64)) < 1e-6
    return outs64


def test_float64_norm_references(rng):
    x = rng.standard_normal((5, 9)) * 2 + 1
    g, b, dy = rng.standard_normal(9), rng.standard_normal(9), rng.standard_normal((5, 9))
    y, mean, rstd = _f64_vs_f32(lambda *a, **k: bs.ops.layernorm(*a, return_stats=True, **k), x, g, b)
    ref_y, ref_mean, ref_rstd = _layernorm64(x, g, b, 1e-5)
    for got, want in ((y, ref_y), (mean, ref_mean), (rstd, ref_rstd)):
        assert relative_error(got, want) < 1e-12
    dx, dg, db = _f64_vs_f32(bs.ops.layernorm_backward, dy, x, g, mean, rstd)
    xhat, gg = (x - ref_mean[:, None]) * ref_rstd[:, None], dy * g
    exact_dx = ref_rstd[:, None] * (gg - gg.mean(-1, keepdims=True) - xhat * (gg * xhat).mean(-1, keepdims=True))
    for got, want in ((dx, exact_dx), (dg, (dy * xhat).sum(0)), (db, dy.sum(0))):
        assert relative_error(got, want) < 1e-12

    y, rstd = _f64_vs_f32(lambda *a, **k: bs.ops.rmsnorm(*a, return_stats=True, **k), x, g)
    ref_y, ref_rstd = _rmsnorm64(x, g, 1e-6)
    assert relative_error(y, ref_y) < 1e-12 and relative_error(rstd, ref_rstd) < 1e-12
    dx, dg = _f64_vs_f32(bs.ops.rmsnorm_backward, dy, x, g, rstd)
    xhat = x * ref_rstd[:, None]
    exact_dx = ref_rstd[:, None] * (gg - xhat * (gg * xhat).mean(-1, keepdims=True))
    assert relative_error(dx, exact_dx) < 1e-12 and relative_error(dg, (dy * xhat).sum(0)) < 1e-12

    # float64 picks v1 by default; the float32 statistics of another dtype are refused by name
    assert np.asarray(bs.ops.layernorm(x, g, b)).dtype == np.float64
    with pytest.raises(bs.UnsupportedError, match="layernorm v2 on cpu: dtype=float64 is not supported"):
        bs.ops.layernorm(x, g, b, impl="v2")
    with pytest.raises(bs.InvalidArgumentError, match="rstd is .*float32.* must be float64"):
        bs.ops.rmsnorm_backward(dy, x, g, ref_rstd.astype(np.float32))


def test_float64_softmax_and_sigmoid_references(rng):
    x, dy = rng.standard_normal((4, 11)) * 3, rng.standard_normal((4, 11))
    (y,) = _f64_vs_f32(bs.ops.softmax, x)
    assert relative_error(y, _softmax64(x)) < 1e-12
    (ly,) = _f64_vs_f32(bs.ops.log_softmax, x)
    assert relative_error(ly, _log_softmax64(x)) < 1e-12
    (dx,) = _f64_vs_f32(bs.ops.softmax_backward, y, dy)
    assert relative_error(dx, y * (dy - (dy * y).sum(-1, keepdims=True))) < 1e-12
    (dx,) = _f64_vs_f32(bs.ops.log_softmax_backward, ly, dy)
    assert relative_error(dx, dy - np.exp(ly) * dy.sum(-1, keepdims=True)) < 1e-12
    (s,) = _f64_vs_f32(bs.ops.sigmoid, x)
    assert relative_error(s, 1 / (1 + np.exp(-x))) < 1e-12
    (dx,) = _f64_vs_f32(bs.ops.sigmoid_backward, s, dy)
    assert relative_error(dx, dy * s * (1 - s)) < 1e-12
    for op in ("softmax", "log_softmax", "sigmoid"):
        assert np.asarray(getattr(bs.ops, op)(x)).dtype == np.float64  # v1 by default
        with pytest.raises(bs.UnsupportedError, match=f"{op} v2 on cpu: dtype=float64 is not supported"):
            getattr(bs.ops, op)(x, impl="v2")


def test_float64_dropout_reference_keeps_float32s_mask(rng):
    x = rng.standard_normal((37, 29))  # never exactly 0: a zero output is a dropped element
    y64 = np.asarray(bs._core.dropout(x, 0.3, 11, "v1"))
    y32 = np.asarray(bs._core.dropout(x.astype(np.float32), 0.3, 11, "v1"))
    assert y64.dtype == np.float64
    np.testing.assert_array_equal(y64 != 0, y32 != 0)
    np.testing.assert_array_equal(y64, np.where(y32 != 0, x * (1 / (1 - 0.3)), 0.0))
    with pytest.raises(bs.UnsupportedError, match="dropout v2 on cpu: dtype=float64 is not supported"):
        bs._core.dropout(x, 0.3, 11, "v2")
    with pytest.raises(bs.InvalidArgumentError, match="dropout: x.dtype=float16 must be float32 or float64"):
        bs._core.dropout(x.astype(np.float16), 0.3, 11)


# ---- float64 on the channel-norm and conv references ---------------------------------------------
# The finite-difference gradient checks (tests/test_autograd.py) run these v1 references in
# float64: here each agrees with its float32 self (~1e-6) and with the NumPy formula (1e-12).
F64_EPS = float(np.float32(1e-5))  # the ops take eps as a float


def _f64_and_f32(op, *args, **kwargs):
    """op on float64 arrays (the default picks v1) and on their float32 copies (impl v1)."""
    got = op(*args, **kwargs)
    low = op(*(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in args),
             impl="v1", **kwargs)
    got, low = (list(t) if isinstance(t, (list, tuple)) else [t] for t in (got, low))
    for g, lo in zip(got, low):
        g = np.asarray(g)
        assert g.dtype == (np.float64 if np.asarray(lo).dtype == np.float32 else np.asarray(lo).dtype), g.dtype
        assert relative_error(lo, g.astype(np.float64)) < 2e-6
    return [np.asarray(g) for g in got]


def _norm_grads64(dy, x, gamma, axes, stats_of_x=True, mean=None, rstd=None):
    """(dx, dgamma, dbeta) of y = (x - mean) rstd gamma + beta over `axes` (the statistics set)."""
    c = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - mean) * rstd
    g = dy * gamma.reshape(c)
    dx = rstd * (g - g.mean(axes, keepdims=True) - xhat * (g * xhat).mean(axes, keepdims=True)) if stats_of_x \
        else rstd * g
    other = tuple(i for i in range(x.ndim) if i != 1)
    return dx, (dy * xhat).sum(other), dy.sum(other)


def test_group_norm_float64(rng):
    n, c, groups = 3, 6, 3
    x, dy = rng.standard_normal((n, c, 2, 3)), rng.standard_normal((n, c, 2, 3))
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    y, mean, rstd = _f64_and_f32(bs.ops.group_norm, x, gamma, beta, groups)
    xg = x.reshape(n, groups, -1)
    m, r = xg.mean(-1, keepdims=True), 1 / np.sqrt(xg.var(-1, keepdims=True) + F64_EPS)
    want = ((xg - m) * r).reshape(x.shape) * gamma[None, :, None, None] + beta[None, :, None, None]
    assert relative_error(y, want) < 1e-12
    assert relative_error(mean, m.ravel()) < 1e-12 and relative_error(rstd, r.ravel()) < 1e-12
    dx, dgamma, dbeta = _f64_and_f32(bs.ops.group_norm_backward, dy, x, gamma, mean, rstd, groups)
    g = (dy * gamma[None, :, None, None]).reshape(n, groups, -1)
    xhat = (xg - m) * r
    wdx = r * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
    assert relative_error(dx, wdx.reshape(x.shape)) < 1e-12
    assert relative_error(dgamma, (dy * xhat.reshape(x.shape)).sum((0, 2, 3))) < 1e-12
    assert relative_error(dbeta, dy.sum((0, 2, 3))) < 1e-12


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_float64(rng, training):
    x, dy = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 3, 5))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    y, mean, rstd = _f64_and_f32(bs.ops.batch_norm, x, gamma, beta, rm, rv, training)
    m = x.mean((0, 2), keepdims=True) if training else rm.reshape(1, 3, 1)
    r = 1 / np.sqrt((x.var((0, 2), keepdims=True) if training else rv.reshape(1, 3, 1)) + F64_EPS)
    assert relative_error(y, (x - m) * r * gamma.reshape(1, 3, 1) + beta.reshape(1, 3, 1)) < 1e-12
    assert relative_error(mean, m.ravel()) < 1e-12 and relative_error(rstd, r.ravel()) < 1e-12
    got = _f64_and_f32(bs.ops.batch_norm_backward, dy, x, gamma, mean, rstd, training)
    want = _norm_grads64(dy, x, gamma, (0, 2), training, m, r)
    for a, b in zip(got, want):
        assert relative_error(a, b) < 1e-12


def test_conv_family_float64(rng):
    x = rng.standard_normal((2, 3, 5, 6))
    win = dict(kernel=(2, 3), stride=(1, 2), padding=1, dilation=(2, 1))
    cols, = _f64_and_f32(bs.ops.unfold, x, **win)
    torch = pytest.importorskip("torch")
    tx = torch.from_numpy(x)
    want = torch.nn.functional.unfold(tx, (2, 3), (2, 1), 1, (1, 2)).transpose(1, 2).numpy()
    np.testing.assert_array_equal(cols, want)  # copies: exact
    folded, = _f64_and_f32(bs.ops.fold, cols, 3, 5, 6, **win)
    want = torch.nn.functional.fold(torch.from_numpy(cols).transpose(1, 2), (5, 6), (2, 3), (2, 1), 1, (1, 2))
    assert relative_error(folded, want.numpy()) < 1e-12
    y, = _f64_and_f32(bs.ops.avg_pool2d, x, 3, 2, 1)
    assert relative_error(y, torch.nn.functional.avg_pool2d(tx, 3, 2, 1).numpy()) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx, = _f64_and_f32(bs.ops.avg_pool2d_backward, dy, 5, 6, 3, 2, 1)
    tx.requires_grad_(True)
    torch.nn.functional.avg_pool2d(tx, 3, 2, 1).backward(torch.from_numpy(dy))
    assert relative_error(dx, tx.grad.numpy()) < 1e-12
    y, idx = bs.ops.max_pool2d(x, 2, 2, 1)
    ty, tidx = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, 2, 1, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(idx, tidx.numpy())
    dy = rng.standard_normal(y.shape)
    dx, = _f64_and_f32(bs.ops.max_pool2d_backward, dy, idx, 5, 6)
    want = np.zeros(x.shape)
    np.add.at(want.reshape(2, 3, -1), (np.arange(2)[:, None, None], np.arange(3)[None, :, None],
                                        idx.reshape(2, 3, -1)), dy.reshape(2, 3, -1))
    assert relative_error(dx, want) < 1e-12


def test_depthwise_conv1d_float64(rng):
    x, w, bias = rng.standard_normal((2, 3, 7)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    y, = _f64_and_f32(bs.ops.depthwise_conv1d, x, w, bias, 3)
    xp = np.pad(x, ((0, 0), (0, 0), (3, 0)))
    want = bias[None, :, None] + sum(w[None, :, k, None] * xp[:, :, k:k + 7] for k in range(4))
    assert relative_error(y, want) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx, dw, db = _f64_and_f32(bs.ops.depthwise_conv1d_backward, dy, x, w, 3)
    wdx = np.zeros_like(xp)
    for k in range(4):
        wdx[:, :, k:k + 7] += w[None, :, k, None] * dy
    assert relative_error(dx, wdx[:, :, 3:]) < 1e-12
    assert relative_error(dw, np.stack([(dy * xp[:, :, k:k + 7]).sum((0, 2)) for k in range(4)], 1)) < 1e-12
    assert relative_error(db, dy.sum((0, 2))) < 1e-12


def test_float64_is_refused_by_the_other_versions(rng):
    x = rng.standard_normal((1, 2, 4, 4))
    for op, args in [(bs.ops.unfold, (x, 2)), (bs.ops.avg_pool2d, (x, 2)), (bs.ops.max_pool2d, (x, 2))]:
        with pytest.raises(bs.UnsupportedError, match=r"v2 on cpu: dtype=float64 is not supported"):
            op(*args, impl="v2")
