"""The nn ops (embedding, cross-entropy, RoPE, forward and backward): every registered
version against a NumPy reference in double on fresh random data (never zeros), awkward
sizes, repeated ids, ignore_index rows, finite-difference gradient checks on tiny shapes,
the errors callers see, and the benchmark case families."""
from __future__ import annotations

import math

import numpy as np
import pytest

import benchsuite as bs

from op_helpers import all_versions, on_device, relative_error, to_host, versions
from conftest import CUDA, fast_settings, torch_cuda

NN_OPS = ["embedding", "embedding_backward", "cross_entropy", "cross_entropy_backward", "rope",
          "rope_backward"]


def test_every_nn_op_has_versions_and_one_reference():
    for op in NN_OPS:
        cpu = bs.ops.versions(op, "cpu")
        assert [v["version"] for v in cpu] == ["v1", "v2"], op
        assert [v["reference"] for v in cpu] == [True, False], op
        # float32; the CPU reference also float64 (double end to end, for the gradient checks)
        assert all(v["description"] and v["dtypes"] == (["float32", "float64"] if v["reference"] and
                                                        v["device"] == "cpu" else ["float32"])
                   for v in bs.ops.versions(op)), op
        if bs.build_config()["cuda"]["enabled"]:
            assert versions(op, "cuda") == ["v1"], op
        assert callable(getattr(bs.ops, op))


# ---- embedding ------------------------------------------------------------------------------------

# (vocab, dim, ids shape)
EMBEDDING_SHAPES = [(1, 1, (1,)), (1, 5, (7,)), (10, 1, (3, 4)), (50, 33, (17,)), (97, 128, (4, 33)),
                    (13, 6, (5,)), (7, 4, ()), (5, 3, (0,)), (300, 260, (2, 3, 5)), (3, 1027, (9,))]


@pytest.mark.parametrize("device,version", all_versions("embedding"))
@pytest.mark.parametrize("vocab,dim,ids_shape", EMBEDDING_SHAPES)
def test_embedding_forward(rng, device, version, vocab, dim, ids_shape):
    weight = rng.standard_normal((vocab, dim)).astype(np.float32)
    ids = rng.integers(0, vocab, ids_shape, dtype=np.int64)
    out = to_host(bs.ops.embedding(on_device(weight, device), on_device(ids, device), impl=version))
    assert out.shape == ids_shape + (dim,) and out.dtype == np.float32
    np.testing.assert_array_equal(out, weight[ids])  # a copy: exact


def embedding_backward_ref(dout: np.ndarray, ids: np.ndarray, vocab: int) -> np.ndarray:
    dweight = np.zeros((vocab, dout.shape[-1]))
    np.add.at(dweight, ids.reshape(-1), dout.reshape(-1, dout.shape[-1]).astype(np.float64))
    return dweight


@pytest.mark.parametrize("device,version", all_versions("embedding_backward"))
@pytest.mark.parametrize("vocab,dim,ids_shape", EMBEDDING_SHAPES)
def test_embedding_backward(rng, device, version, vocab, dim, ids_shape):
    dout = rng.standard_normal(ids_shape + (dim,)).astype(np.float32)
    ids = rng.integers(0, vocab, ids_shape, dtype=np.int64)
    dweight = to_host(bs.ops.embedding_backward(on_device(dout, device), on_device(ids, device), vocab,
                                                impl=version))
    assert dweight.shape == (vocab, dim)
    ref = embedding_backward_ref(dout, ids, vocab)
    assert relative_error(dweight, ref) < 1e-6
    np.testing.assert_allclose(dweight, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("device,version", all_versions("embedding_backward"))
def test_embedding_backward_repeated_ids_and_unused_rows(rng, device, version):
    vocab, dim = 40, 37
    # Heavy repeats: one id takes half the tokens, a few others the rest; most rows unused.
    ids = np.where(rng.random(3000) < 0.5, 7, rng.choice([0, 3, 39, 21], 3000)).astype(np.int64)
    dout = rng.standard_normal((3000, dim)).astype(np.float32)
    run = lambda: to_host(bs.ops.embedding_backward(on_device(dout, device), on_device(ids, device), vocab,  # noqa: E731
                                                    impl=version))
    dweight = run()
    ref = embedding_backward_ref(dout, ids, vocab)
    assert relative_error(dweight, ref) < 1e-5
    unused = np.setdiff1d(np.arange(vocab), ids)
    assert np.all(dweight[unused] == 0)
    np.testing.assert_array_equal(run(), dweight)  # deterministic: same bits every time


def test_embedding_backward_same_bits_on_cpu_and_cuda(rng):
    # CPU v2 and CUDA v1 both add each id's rows in token order in float: identical bits.
    if not CUDA:
        pytest.skip("no_cuda")
    ids = rng.integers(0, 30, 5000, dtype=np.int64)
    dout = rng.standard_normal((5000, 67)).astype(np.float32)
    cpu = bs.ops.embedding_backward(dout, ids, 30, impl="v2")
    gpu = to_host(bs.ops.embedding_backward(on_device(dout, "cuda"), on_device(ids, "cuda"), 30))
    np.testing.assert_array_equal(gpu, cpu)


def test_embedding_backward_is_the_gradient_of_embedding(rng):
    # <embedding(W), dout> is linear in W, so its gradient is exactly embedding_backward(dout).
    vocab, dim = 6, 5
    weight = rng.standard_normal((vocab, dim))
    ids = rng.integers(0, vocab, (4, 3), dtype=np.int64)
    dout = rng.standard_normal((4, 3, dim)).astype(np.float32)
    f = lambda w: (w[ids] * dout).sum()  # noqa: E731
    h = 1e-3
    numeric = np.zeros_like(weight)
    for i in np.ndindex(weight.shape):
        wp, wm = weight.copy(), weight.copy()
        wp[i] += h
        wm[i] -= h
        numeric[i] = (f(wp) - f(wm)) / (2 * h)
    for version in versions("embedding_backward", "cpu"):
        assert relative_error(bs.ops.embedding_backward(dout, ids, vocab, impl=version), numeric) < 1e-6


def test_embedding_unaligned_cuda_rows_take_the_scalar_path(rng):
    if not CUDA:
        pytest.skip("no_cuda")
    torch = torch_cuda()
    weight = torch.randn(32 * 16 + 1, device="cuda")[1:].view(32, 16)  # dim % 4 == 0, 4-byte offset
    ids = torch.randint(0, 32, (50,), device="cuda", dtype=torch.int64)
    out = bs.ops.embedding(weight, ids)
    assert isinstance(out, torch.Tensor) and torch.equal(out, weight[ids])


def test_embedding_errors(rng):
    weight = rng.standard_normal((10, 4)).astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match=r"id 10 \(at flat position 2 of ids\) is out of range "
                                                      r"for num_embeddings=10"):
        bs.ops.embedding(weight, np.array([1, 2, 10, 11], dtype=np.int64))
    with pytest.raises(bs.InvalidArgumentError, match=r"id -1 .*num_embeddings=10"):
        bs.ops.embedding(weight, np.array([[3, -1]], dtype=np.int64))
    with pytest.raises(bs.InvalidArgumentError, match="ids.dtype=int32 must be int64"):
        bs.ops.embedding(weight, np.array([1, 2], dtype=np.int32))
    with pytest.raises(bs.InvalidArgumentError, match=r"weight must be 2-D \[num_embeddings, dim\], got shape \[10\]"):
        bs.ops.embedding(weight[:, 0].copy(), np.array([1], dtype=np.int64))
    with pytest.raises(bs.InvalidArgumentError, match="weight.dtype=int64 must be a floating type"):
        bs.ops.embedding(np.ones((3, 2), dtype=np.int64), np.array([1], dtype=np.int64))
    ids = np.array([1, 2, 3], dtype=np.int64)
    with pytest.raises(bs.InvalidArgumentError, match=r"dout.shape=\[3, 4, 2\] must be ids.shape \+ \[dim\] "
                                                      r"with ids.shape=\[3\]"):
        bs.ops.embedding_backward(np.ones((3, 4, 2), np.float32), ids, 10)
    with pytest.raises(bs.InvalidArgumentError, match=r"dout.shape=\[2, 4\] must be ids.shape"):
        bs.ops.embedding_backward(np.ones((2, 4), np.float32), ids, 10)
    with pytest.raises(bs.InvalidArgumentError, match=r"id 3 .*num_embeddings=3"):
        bs.ops.embedding_backward(np.ones((3, 4), np.float32), ids, 3)
    with pytest.raises(bs.InvalidArgumentError, match="num_embeddings=-1 must be >= 0"):
        bs.ops.embedding_backward(np.ones((3, 4), np.float32), ids, -1)
    with pytest.raises(bs.UnsupportedError, match="dtype=float16 is not supported"):
        bs.ops.embedding(weight.astype(np.float16), ids)


def test_embedding_errors_on_cuda(rng):
    if not CUDA:
        pytest.skip("no_cuda")
    weight = bs.Tensor.from_numpy(rng.standard_normal((10, 4)).astype(np.float32)).to("cuda")
    bad = bs.Tensor.from_numpy(np.array([0, 9, 12], dtype=np.int64)).to("cuda")
    with pytest.raises(bs.InvalidArgumentError, match=r"id 12 \(at flat position 2 of ids\).*num_embeddings=10"):
        bs.ops.embedding(weight, bad)
    with pytest.raises(bs.InvalidArgumentError, match="ids is int64.*on cpu but weight is float32.*cuda"):
        bs.ops.embedding(weight, np.array([1], dtype=np.int64))


# ---- cross-entropy ------------------------------------------------------------------------------------

def cross_entropy_ref(logits: np.ndarray, targets: np.ndarray, ignore_index: int = -100):
    """(mean over kept rows, per-row losses with 0 for ignored rows), in double."""
    x = logits.astype(np.float64)
    kept = targets != ignore_index
    rows = np.zeros(x.shape[0])
    if x.size:
        m = x.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]
        safe = np.where(kept, targets, 0)
        rows = np.where(kept, lse - x[np.arange(x.shape[0]), safe], 0.0)
    mean = rows[kept].sum() / kept.sum() if kept.any() else math.nan
    return mean, rows


def cross_entropy_backward_ref(logits, targets, ignore_index=-100, dloss=1.0):
    x = logits.astype(np.float64)
    kept = targets != ignore_index
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(x.shape[0])[kept], targets[kept]] -= 1.0
    p[~kept] = 0.0
    return p * dloss / max(int(kept.sum()), 1)


CE_SHAPES = [(1, 1), (1, 7), (5, 1), (17, 33), (64, 1000), (3, 5003), (2, 2049), (300, 10)]


def random_targets(rng, rows, classes, ignore_index=-100, ignore_fraction=0.0):
    t = rng.integers(0, classes, rows, dtype=np.int64)
    t[rng.random(rows) < ignore_fraction] = ignore_index
    return t


@pytest.mark.parametrize("device,version", all_versions("cross_entropy"))
@pytest.mark.parametrize("rows,classes", CE_SHAPES)
def test_cross_entropy_forward(rng, device, version, rows, classes):
    logits = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    targets = random_targets(rng, rows, classes)
    mean = to_host(bs.ops.cross_entropy(on_device(logits, device), on_device(targets, device), impl=version))
    per_row = to_host(bs.ops.cross_entropy(on_device(logits, device), on_device(targets, device), impl=version,
                                           reduction="none"))
    ref_mean, ref_rows = cross_entropy_ref(logits, targets)
    assert mean.shape == () and per_row.shape == (rows,)
    # A row's loss is lse - x[target]: float32 kernels round lse (of the row's magnitude) before
    # the subtraction, so a tiny loss carries an absolute error of a few ulps of max|x|, not of
    # the loss (seen: loss 0.0035 from logits of magnitude ~5, 3e-5 relative on the CUDA v1).
    scale = np.abs(logits).max(axis=1) + np.log(classes) + 1
    bound = 1e-5 * np.abs(ref_rows) + 8 * np.finfo(np.float32).eps * scale
    assert np.all(np.abs(per_row.astype(np.float64) - ref_rows) <= bound), (per_row, ref_rows)
    assert abs(float(mean) - ref_mean) <= 1e-5 * abs(ref_mean) + float(bound.mean())
    if classes == 1:
        np.testing.assert_array_equal(per_row, 0.0)  # one class: probability 1, loss 0


@pytest.mark.parametrize("device,version", all_versions("cross_entropy"))
@pytest.mark.parametrize("ignore_index", [-100, -1, 0])
def test_cross_entropy_ignore_index(rng, device, version, ignore_index):
    rows, classes = 257, 19
    logits = rng.standard_normal((rows, classes)).astype(np.float32)
    targets = random_targets(rng, rows, classes, ignore_index, ignore_fraction=0.3)
    assert (targets == ignore_index).any()
    d = lambda a: on_device(a, device)  # noqa: E731
    mean = float(to_host(bs.ops.cross_entropy(d(logits), d(targets), ignore_index=ignore_index, impl=version)))
    per_row = to_host(bs.ops.cross_entropy(d(logits), d(targets), ignore_index=ignore_index, impl=version,
                                           reduction="none"))
    ref_mean, ref_rows = cross_entropy_ref(logits, targets, ignore_index)
    assert np.all(per_row[targets == ignore_index] == 0)
    assert relative_error(per_row, ref_rows) < 1e-5
    assert abs(mean - ref_mean) <= 1e-5 * abs(ref_mean)
    dlogits = to_host(bs.ops.cross_entropy_backward(d(logits), d(targets), ignore_index=ignore_index,
                                                    impl=version))
    assert np.all(dlogits[targets == ignore_index] == 0)
    assert relative_error(dlogits, cross_entropy_backward_ref(logits, targets, ignore_index)) < 1e-5


@pytest.mark.parametrize("device,version", all_versions("cross_entropy"))
def test_cross_entropy_all_rows_ignored_and_no_rows(rng, device, version):
    logits = rng.standard_normal((4, 6)).astype(np.float32)
    targets = np.full(4, -100, dtype=np.int64)
    d = lambda a: on_device(a, device)  # noqa: E731
    assert math.isnan(float(to_host(bs.ops.cross_entropy(d(logits), d(targets), impl=version))))  # as PyTorch
    np.testing.assert_array_equal(to_host(bs.ops.cross_entropy(d(logits), d(targets), impl=version,
                                                               reduction="none")), 0.0)
    bwd = versions("cross_entropy_backward", device)[-1]
    np.testing.assert_array_equal(to_host(bs.ops.cross_entropy_backward(d(logits), d(targets), impl=bwd)), 0.0)
    empty = np.empty((0, 6), dtype=np.float32)
    none = np.empty(0, dtype=np.int64)
    assert math.isnan(float(to_host(bs.ops.cross_entropy(d(empty), d(none), impl=version))))
    assert to_host(bs.ops.cross_entropy(d(empty), d(none), impl=version, reduction="none")).shape == (0,)
    assert to_host(bs.ops.cross_entropy_backward(d(empty), d(none), impl=bwd)).shape == (0, 6)


@pytest.mark.parametrize("device,version", all_versions("cross_entropy"))
def test_cross_entropy_is_stable_for_large_logits(rng, device, version):
    logits = (rng.standard_normal((8, 300)) * 1e3).astype(np.float32)
    targets = random_targets(rng, 8, 300)
    per_row = to_host(bs.ops.cross_entropy(on_device(logits, device), on_device(targets, device), impl=version,
                                           reduction="none"))
    assert relative_error(per_row, cross_entropy_ref(logits, targets)[1]) < 1e-5


@pytest.mark.parametrize("device,version", all_versions("cross_entropy_backward"))
@pytest.mark.parametrize("rows,classes", CE_SHAPES)
def test_cross_entropy_backward(rng, device, version, rows, classes):
    logits = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    targets = random_targets(rng, rows, classes, ignore_fraction=0.2)
    dloss = float(rng.uniform(0.5, 2.0))
    dlogits = to_host(bs.ops.cross_entropy_backward(on_device(logits, device), on_device(targets, device),
                                                    impl=version, dloss=dloss))
    assert dlogits.shape == (rows, classes)
    ref = cross_entropy_backward_ref(logits, targets, dloss=dloss)
    assert relative_error(dlogits, ref) < 1e-5
    np.testing.assert_allclose(dlogits.astype(np.float64).sum(axis=1), 0.0, atol=1e-6 * dloss)  # softmax - onehot


def numeric_grad(f, x: np.ndarray, h: float) -> np.ndarray:
    """Gradient of the scalar f at x by central differences."""
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        grad[i] = (f(xp) - f(xm)) / (2 * h)
    return grad


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("rows,classes", [(1, 1), (1, 5), (3, 4), (4, 7)])
def test_cross_entropy_backward_matches_finite_differences(rng, device, rows, classes):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    logits = rng.standard_normal((rows, classes)).astype(np.float32)
    targets = random_targets(rng, rows, classes)
    if rows > 2:
        targets[1] = -100
    dloss = float(rng.uniform(0.5, 2.0))
    # The reference loss in double: tight.
    numeric = numeric_grad(lambda x: cross_entropy_ref(x, targets)[0] * dloss, logits.astype(np.float64), 1e-5)
    # The op's own float32 forward: a bigger step and a looser bound, but end to end.
    op_numeric = numeric_grad(lambda x: float(bs.ops.cross_entropy(x.astype(np.float32), targets, impl="v1"))
                              * dloss, logits.astype(np.float64), 1e-2)
    for v in versions("cross_entropy_backward", device):
        dlogits = to_host(bs.ops.cross_entropy_backward(on_device(logits, device), on_device(targets, device),
                                                        impl=v, dloss=dloss))
        assert relative_error(dlogits, numeric) < 1e-5 or np.abs(dlogits - numeric).max() < 1e-7, v
        assert relative_error(dlogits, op_numeric) < 2e-3 or np.abs(dlogits - op_numeric).max() < 1e-5, v


def test_cross_entropy_errors(rng):
    logits = rng.standard_normal((4, 5)).astype(np.float32)
    good = np.array([0, 1, 4, -100], dtype=np.int64)
    with pytest.raises(bs.InvalidArgumentError, match="targets.dtype=int32 must be int64"):
        bs.ops.cross_entropy(logits, good.astype(np.int32))
    with pytest.raises(bs.InvalidArgumentError, match="targets.dtype=float32 must be int64"):
        bs.ops.cross_entropy_backward(logits, good.astype(np.float32))
    with pytest.raises(bs.InvalidArgumentError, match=r"targets\[2\]=5 is out of range for classes=5"):
        bs.ops.cross_entropy(logits, np.array([0, 1, 5, 7], dtype=np.int64))
    with pytest.raises(bs.InvalidArgumentError, match=r"targets\[3\]=-100 is out of range .*ignore_index=-1"):
        bs.ops.cross_entropy(logits, good, ignore_index=-1)
    with pytest.raises(bs.InvalidArgumentError, match=r"cross_entropy_backward: targets\[0\]=-3"):
        bs.ops.cross_entropy_backward(logits, np.array([-3, 0, 0, 0], dtype=np.int64))
    with pytest.raises(bs.InvalidArgumentError, match=r"targets.shape=\[3\] must be \[4\]"):
        bs.ops.cross_entropy(logits, good[:3].copy())
    with pytest.raises(bs.InvalidArgumentError, match=r"logits must be 2-D \[rows, classes\], got shape \[2, 2, 5\]"):
        bs.ops.cross_entropy(rng.standard_normal((2, 2, 5)).astype(np.float32), good)
    with pytest.raises(bs.InvalidArgumentError, match="at least one class"):
        bs.ops.cross_entropy(np.empty((4, 0), np.float32), good)
    with pytest.raises(bs.InvalidArgumentError, match="reduction='sum' must be 'mean' or 'none'"):
        bs.ops.cross_entropy(logits, good, reduction="sum")
    with pytest.raises(bs.InvalidArgumentError, match="dloss=nan must be finite"):
        bs.ops.cross_entropy_backward(logits, good, dloss=float("nan"))
    with pytest.raises(bs.InvalidArgumentError, match="impl='v7'.*known: v1, v2"):
        bs.ops.cross_entropy(logits, good, impl="v7")


# ---- RoPE ---------------------------------------------------------------------------------------------

def rope_ref(x: np.ndarray, base: float = 10000.0, position_offset: int = 0, inverse: bool = False):
    """The documented formula (GPT-NeoX rotate-half) in double."""
    x = x.astype(np.float64)
    _, seq_len, _, head_dim = x.shape
    half = head_dim // 2
    inv_freq = 1.0 / base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angle = (np.arange(seq_len, dtype=np.float64) + position_offset)[:, None] * inv_freq[None, :]  # [T, half]
    cos = np.cos(angle)[None, :, None, :]
    sin = np.sin(angle)[None, :, None, :] * (-1 if inverse else 1)
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


ROPE_SHAPES = [(1, 1, 1, 2), (2, 1, 3, 8), (1, 7, 5, 6), (3, 17, 3, 64), (2, 33, 4, 130), (1, 4, 2, 600),
               (2, 5, 1, 0)]


@pytest.mark.parametrize("op", ["rope", "rope_backward"])
@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("shape", ROPE_SHAPES)
def test_rope_versions(rng, op, device, shape):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    x = rng.standard_normal(shape).astype(np.float32)
    offset = int(rng.integers(0, 50))
    ref = rope_ref(x, 10000.0, offset, inverse=op == "rope_backward")
    for v in versions(op, device):
        y = to_host(getattr(bs.ops, op)(on_device(x, device), position_offset=offset, impl=v))
        assert y.shape == shape and y.dtype == np.float32
        assert relative_error(y, ref) < 1e-6, v


@pytest.mark.parametrize("device,version", all_versions("rope"))
@pytest.mark.parametrize("base,offset", [(10000.0, 0), (500000.0, 4093), (10.0, 7), (10000.0, 100_000)])
def test_rope_bases_and_long_positions(rng, device, version, base, offset):
    x = rng.standard_normal((2, 300, 3, 64)).astype(np.float32)
    y = to_host(bs.ops.rope(on_device(x, device), base=base, position_offset=offset, impl=version))
    assert relative_error(y, rope_ref(x, base, offset)) < 1e-6
    # Rotations keep each (i, i + half) pair's length.
    half = 32
    np.testing.assert_allclose(np.hypot(y[..., :half], y[..., half:]), np.hypot(x[..., :half], x[..., half:]),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_rope_backward_inverts_rope(rng, device):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    x = rng.standard_normal((2, 9, 3, 16)).astype(np.float32)
    for v in versions("rope", device):
        y = bs.ops.rope(on_device(x, device), base=500.0, position_offset=3, impl=v)
        back = to_host(bs.ops.rope_backward(y, base=500.0, position_offset=3, impl=v))
        np.testing.assert_allclose(back, x, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("shape", [(1, 1, 1, 2), (1, 3, 2, 4), (2, 2, 1, 6)])
def test_rope_backward_matches_finite_differences(rng, device, shape):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    x = rng.standard_normal(shape)
    dy = rng.standard_normal(shape).astype(np.float32)
    offset = int(rng.integers(0, 20))
    numeric = numeric_grad(lambda xx: (rope_ref(xx, 10000.0, offset) * dy).sum(), x, 1e-4)
    for v in versions("rope_backward", device):
        dx = to_host(bs.ops.rope_backward(on_device(dy, device), position_offset=offset, impl=v))
        assert relative_error(dx, numeric) < 1e-6, v
    # and through the op's own float32 forward, end to end
    op_numeric = numeric_grad(lambda xx: (np.asarray(bs.ops.rope(xx.astype(np.float32), position_offset=offset,
                                                                 impl="v1"), np.float64) * dy).sum(), x, 1e-2)
    assert relative_error(bs.ops.rope_backward(dy, position_offset=offset), op_numeric) < 1e-3


def test_rope_errors(rng):
    x = rng.standard_normal((2, 3, 4, 8)).astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match=r"rope: head_dim=7 \(x.shape=\[2, 3, 4, 7\]\) must be even"):
        bs.ops.rope(rng.standard_normal((2, 3, 4, 7)).astype(np.float32))
    with pytest.raises(bs.InvalidArgumentError, match=r"rope_backward: head_dim=5 \(dy.shape="):
        bs.ops.rope_backward(rng.standard_normal((1, 1, 1, 5)).astype(np.float32))
    with pytest.raises(bs.InvalidArgumentError, match=r"x must be 4-D \[batch, seq_len, heads, head_dim\], got "
                                                      r"shape \[3, 4, 8\]"):
        bs.ops.rope(x[0].copy())
    with pytest.raises(bs.InvalidArgumentError, match="base=0 must be a finite number > 0"):
        bs.ops.rope(x, base=0.0)
    with pytest.raises(bs.InvalidArgumentError, match="base=inf"):
        bs.ops.rope_backward(x, base=float("inf"))
    with pytest.raises(bs.InvalidArgumentError, match="position_offset=-1 must be >= 0"):
        bs.ops.rope(x, position_offset=-1)
    with pytest.raises(bs.InvalidArgumentError, match="x.dtype=int32 must be a floating type"):
        bs.ops.rope(np.ones((1, 1, 1, 2), dtype=np.int32))
    with pytest.raises(bs.UnsupportedError, match="dtype=float16 is not supported"):
        bs.ops.rope(x.astype(np.float16))


# ---- array kinds ----------------------------------------------------------------------------------------

def test_nn_ops_return_the_callers_array_kind(rng):
    weight = rng.standard_normal((8, 4)).astype(np.float32)
    ids = np.array([1, 7, 1], dtype=np.int64)
    assert isinstance(bs.ops.embedding(weight, ids), np.ndarray)
    t = bs.ops.embedding(bs.Tensor.from_numpy(weight), ids)
    assert isinstance(t, bs.Tensor) and t.shape == (3, 4)
    logits = rng.standard_normal((3, 8)).astype(np.float32)
    loss = bs.ops.cross_entropy(logits, ids)
    assert isinstance(loss, np.ndarray) and loss.shape == ()
    assert isinstance(bs.ops.cross_entropy(bs.Tensor.from_numpy(logits), ids), bs.Tensor)
    assert isinstance(bs.ops.rope(rng.standard_normal((1, 2, 1, 4)).astype(np.float32)), np.ndarray)


def test_nn_ops_with_torch_cuda_tensors(rng):
    if not CUDA:
        pytest.skip("no_cuda")
    torch = torch_cuda()
    logits = torch.randn(33, 101, device="cuda")
    targets = torch.randint(0, 101, (33,), device="cuda")
    targets[5] = -100
    loss = bs.ops.cross_entropy(logits, targets)
    assert isinstance(loss, torch.Tensor) and loss.is_cuda
    ref = torch.nn.functional.cross_entropy(logits.double(), targets)
    assert abs(loss.item() - ref.item()) < 1e-5 * abs(ref.item())
    x = logits.double().requires_grad_()
    torch.nn.functional.cross_entropy(x, targets).backward()
    grad = bs.ops.cross_entropy_backward(logits, targets)
    assert ((grad.double() - x.grad).norm() / x.grad.norm()).item() < 1e-5
    weight = torch.randn(50, 24, device="cuda")
    ids = torch.randint(0, 50, (7, 9), device="cuda")
    assert torch.equal(bs.ops.embedding(weight, ids), torch.nn.functional.embedding(ids, weight))


# ---- benchmark case families -------------------------------------------------------------------------------

CASES = [("embedding", {"vocab": 37, "dim": 12, "tokens": 50}),
         ("embedding_backward", {"vocab": 37, "dim": 12, "tokens": 50}),
         ("cross_entropy", {"rows": 9, "classes": 301}),
         ("cross_entropy_backward", {"rows": 9, "classes": 301}),
         ("rope", {"batch": 2, "seq_len": 5, "heads": 3, "head_dim": 8}),
         ("rope_backward", {"batch": 2, "seq_len": 5, "heads": 3, "head_dim": 8})]


def test_nn_case_families_are_registered():
    families = {f["name"]: f for f in bs._core.case_families()}
    for name, params in CASES:
        assert name in families, name
        assert set(params) | {"dtype"} == {p["name"] for p in families[name]["params"]}, name


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("case,params", CASES, ids=[c for c, _ in CASES])
def test_nn_cases_check_and_measure(device, case, params):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    for version in versions(case, device):
        r = bs.measure(case, device=device, impl=version, settings=fast_settings(), **params)
        assert r.status == "ok", (version, r.status, getattr(r, "reasons", None), r.to_dict().get("error"))
        assert r.metrics["correctness"]["passed"], version
        assert r.counters["item_unit"] == "tokens"
        assert r.implementation == version


def test_nn_case_parameter_errors():
    with pytest.raises(bs.InvalidArgumentError, match="head_dim=7"):
        bs.measure("rope", batch=1, seq_len=2, heads=1, head_dim=7, settings=fast_settings())
    with pytest.raises(bs.InvalidArgumentError, match="vocab=0 must be >= 1"):
        bs.measure("embedding", vocab=0, dim=4, tokens=3, settings=fast_settings())


# ---- float64: the CPU references (v1) in double end to end -----------------------------------------
def test_float64_references(rng):
    """Each nn op's v1 on float64 input: double outputs (losses too) that agree with the double
    formulas above to 1e-12 and with the same v1 in float32 to float precision; v2 refuses float64."""
    def both(fn, x, *rest, **kwargs):
        out64 = np.asarray(fn(x, *rest, impl="v1", **kwargs))
        out32 = np.asarray(fn(x.astype(np.float32), *rest, impl="v1", **kwargs))
        assert out64.dtype == np.float64 and out32.dtype == np.float32
        assert relative_error(out64, out32.astype(np.float64)) < 1e-6
        return out64

    weight, ids = rng.standard_normal((11, 6)), rng.integers(0, 11, (3, 5))
    np.testing.assert_array_equal(both(bs.ops.embedding, weight, ids), weight[ids])
    dout = rng.standard_normal((3, 5, 6))
    assert relative_error(both(bs.ops.embedding_backward, dout, ids, 11), embedding_backward_ref(dout, ids, 11)) < 1e-12
    logits, targets = rng.standard_normal((6, 9)) * 3, rng.integers(0, 9, 6)
    targets[2] = -100
    loss, rows = cross_entropy_ref(logits, targets)
    assert abs(float(both(bs.ops.cross_entropy, logits, targets)) - loss) < 1e-12 * abs(loss)
    assert relative_error(both(bs.ops.cross_entropy, logits, targets, reduction="none"), rows) < 1e-12
    # dloss not representable in float32: the float64 reference takes it whole
    got = np.asarray(bs.ops.cross_entropy_backward(logits, targets, dloss=0.1, impl="v1"))
    assert relative_error(got, cross_entropy_backward_ref(logits, targets, dloss=0.1)) < 1e-12
    x = rng.standard_normal((2, 7, 3, 8))
    assert relative_error(both(bs.ops.rope, x, position_offset=5), rope_ref(x, 10000.0, 5)) < 1e-12
    assert relative_error(both(bs.ops.rope_backward, x, position_offset=5), rope_ref(x, 10000.0, 5, inverse=True)) \
        < 1e-12
    for op, args in (("embedding", (weight, ids)), ("cross_entropy", (logits, targets)), ("rope", (x,))):
        with pytest.raises(bs.UnsupportedError, match=f"{op} v2 on cpu: dtype=float64 is not supported"):
            getattr(bs.ops, op)(*args, impl="v2")

    # sinusoidal positions: a float64 graph's table is float64, the double formula to 1e-12
    from benchsuite.models import Builder, Executor, layers
    b = Builder("float64")
    b.output(layers.sinusoidal_positions(b, b.input("ids", [2, 9], "int64"), 7), "p")
    table = Executor(b.finish(), {}).run([np.zeros((2, 9), np.int64)])[0]
    angle = np.arange(9)[:, None] / np.power(10000.0, 2 * (np.arange(7) // 2) / 7)[None, :]
    assert table.dtype == np.float64
    np.testing.assert_allclose(table, np.stack([np.where(np.arange(7) % 2 == 0, np.sin(angle), np.cos(angle))] * 2),
                               rtol=0, atol=1e-14)
