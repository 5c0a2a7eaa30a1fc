"""Every registered version of every op against a simple reference, on fresh random
inputs (never zeros), including awkward shapes."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs

from op_helpers import all_versions, on_device, relative_error, to_host, versions, versions_on
from conftest import CUDA

DEVICES = ["cpu"] + (["cuda"] if CUDA else [])
SHAPES_2D = [(1, 1), (1, 1000), (1000, 1), (3, 5), (17, 33), (64, 64), (129, 257), (0, 7), (7, 0)]
MATMUL_SHAPES = [(1, 1, 1), (1, 100, 37), (100, 1, 37), (37, 100, 1), (5, 7, 3), (64, 64, 64),
                 (97, 130, 259), (6, 16, 256), (7, 17, 513), (0, 5, 3), (5, 0, 3), (4, 6, 0)]


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


@pytest.mark.parametrize("device,version", all_versions("matmul", "float32"))
@pytest.mark.parametrize("m,n,k", MATMUL_SHAPES)
def test_matmul_versions_float32(rng, device, version, m, n, k):
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = to_host(bs.ops.matmul(on_device(a, device), on_device(b, device), impl=version))
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert c.shape == (m, n)
    if ref.size:
        assert relative_error(c, ref) < 1e-5


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
    torch = pytest.importorskip("torch")
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
    torch = pytest.importorskip("torch")
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
    with pytest.raises(bs.UnsupportedError, match="dtype=float16 is not supported") as info:
        bs.ops.softmax(rng.standard_normal((2, 2)).astype(np.float16))
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

NORM_SHAPES = [(1, 1), (1, 1000), (1000, 1), (3, 5), (17, 257), (2, 3, 64), (256, 1024)]


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
        assert relative_error(c, ref) < (2e-3 if "tf32" in version else 1e-5)


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
