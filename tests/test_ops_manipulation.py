"""The manipulation ops: every version of transpose, contiguous and concat against NumPy on
fresh random data (awkward and empty shapes, batches, every NumPy-representable dtype),
reshape and slice as true views (shared memory, offsets through DLPack and the buffer
protocol), CUDA strided views made contiguous, the benchmark cases, and error messages."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs

from op_helpers import all_versions, on_device, versions
from conftest import CUDA, requires_cuda, torch_cuda

DEVICES = ["cpu"] + (["cuda"] if CUDA else [])
DTYPES = [np.float32, np.float16, np.float64, np.int8, np.int32, np.int64, np.uint8]
SHAPES_2D = [(1, 1), (1, 1000), (1000, 1), (3, 5), (33, 65), (64, 64), (129, 257), (0, 7), (7, 0)]
BATCHED = [(3, 33, 65), (2, 3, 4, 5), (0, 3, 4), (4, 0, 5), (1, 1, 40), (5, 32, 32)]


def random_array(rng, shape, dtype=np.float32) -> np.ndarray:
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape, dtype=dtype)


def to_host(y) -> np.ndarray:
    if isinstance(y, bs.Tensor):
        return np.asarray(y.to("cpu"))
    return np.asarray(y)


def assert_same(out, ref: np.ndarray) -> None:
    out = to_host(out)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)


# ---- transpose -----------------------------------------------------------------------------
@pytest.mark.parametrize("device,version", all_versions("transpose"))
@pytest.mark.parametrize("shape", SHAPES_2D + BATCHED)
def test_transpose_versions(rng, device, version, shape):
    x = random_array(rng, shape)
    y = bs.ops.transpose(on_device(x, device), impl=version)
    assert_same(y, np.swapaxes(x, -1, -2))


@pytest.mark.parametrize("device,version", all_versions("transpose"))
@pytest.mark.parametrize("dtype", DTYPES)
def test_transpose_every_dtype(rng, device, version, dtype):
    x = random_array(rng, (2, 37, 70), dtype)
    assert_same(bs.ops.transpose(on_device(x, device), impl=version), np.swapaxes(x, -1, -2))


def test_transpose_of_a_strided_input(rng):
    x = random_array(rng, (40, 90))
    view = x[3:, ::3]
    for version in versions("transpose", "cpu"):
        y = bs.ops.transpose(view, impl=version)
        assert y.flags.c_contiguous
        assert_same(y, view.T)


def test_transpose_result_is_a_new_array(rng):
    x = random_array(rng, (8, 8))
    y = bs.ops.transpose(x)
    assert not np.shares_memory(x, y)


def test_transpose_errors(rng):
    with pytest.raises(bs.InvalidArgumentError, match=r"transpose: x.shape=\[5\] must have at least 2"):
        bs.ops.transpose(random_array(rng, (5,)))
    with pytest.raises(bs.InvalidArgumentError, match=r"impl='v9'.*known: v1, v2"):
        bs.ops.transpose(random_array(rng, (2, 2)), impl="v9")


# ---- contiguous --------------------------------------------------------------------------------
def strided_views(rng, dtype=np.float32) -> list[tuple[str, np.ndarray]]:
    base = random_array(rng, (24, 36), dtype)
    cube = random_array(rng, (5, 6, 7), dtype)
    deep = random_array(rng, (3, 4, 5, 6, 7), dtype)
    return [
        ("transposed", base.T),
        ("transposed_33x65", random_array(rng, (65, 33), dtype).T),
        ("row_vector_T", random_array(rng, (37, 1), dtype).T),
        ("col_vector_T", random_array(rng, (1, 37), dtype).T),
        ("step_both", base[::2, 1::3]),
        ("inner_runs", base[2:, 5:30]),
        ("reversed", base[::-1, ::-2]),
        ("broadcast", np.broadcast_to(base[3], (5, 36))),
        ("every_third", base.reshape(-1)[::3]),
        ("permuted_3d", cube.transpose(2, 0, 1)),
        ("batched_T", np.swapaxes(cube, 1, 2)),
        ("permuted_5d", deep.transpose(4, 1, 3, 0, 2)[:, 1:, :, ::2]),
        ("empty", base[:, :0]),
        ("empty_T", random_array(rng, (0, 5), dtype).T),
        ("single", base[5:6, 7:8]),
        ("contiguous", base[4:9]),
    ]


def cuda_view_of(view: np.ndarray):
    """The CUDA equivalent of a NumPy view (torch.as_strided over a CUDA copy of its base),
    or None without torch, without a CUDA device or for negative strides (torch has none)."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available() or any(s < 0 for s in view.strides):
        return None
    base = view
    while isinstance(base.base, np.ndarray):
        base = base.base
    item = view.itemsize
    offset = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // item
    t = torch.from_numpy(np.ascontiguousarray(base)).cuda()
    return torch.as_strided(t, view.shape, [s // item for s in view.strides], offset)


def bs_cuda_views(rng) -> list[tuple[str, object, np.ndarray]]:
    """Strided CUDA views made with bs.ops.slice/reshape alone (no torch needed)."""
    base = random_array(rng, (24, 36))
    t = bs.Tensor.from_numpy(base).to("cuda")
    cube = bs.ops.reshape(t, (4, 6, 36))
    return [
        ("step_both", bs.ops.slice(bs.ops.slice(t, 0, None, None, 2), 1, 1, None, 3), base[::2, 1::3]),
        ("inner_runs", bs.ops.slice(bs.ops.slice(t, 0, 2, None), 1, 5, 30), base[2:, 5:30]),
        ("middle_step", bs.ops.slice(cube, 1, 1, None, 2), base.reshape(4, 6, 36)[:, 1::2]),
        ("column", bs.ops.slice(t, 1, 7, 8), base[:, 7:8]),
        ("empty", bs.ops.slice(t, 1, 3, 3), base[:, 3:3]),
        ("rows", bs.ops.slice(t, 0, 3, 9), base[3:9]),
    ]


@pytest.mark.parametrize("device,version", all_versions("contiguous"))
def test_contiguous_versions(rng, device, version):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    cases = []
    for name, view in strided_views(rng):
        x = view if device == "cpu" else cuda_view_of(view)
        if x is not None:
            cases.append((name, x, view))
    if device == "cuda":
        cases += bs_cuda_views(rng)
    for name, x, view in cases:
        y = bs.ops.contiguous(x, impl=version)
        try:
            assert_same(y, np.ascontiguousarray(view))
        except AssertionError as e:
            raise AssertionError(f"view {name}: {e}") from None
        if device == "cpu":
            assert y.flags.c_contiguous, name


@pytest.mark.parametrize("device,version", all_versions("contiguous"))
@pytest.mark.parametrize("dtype", DTYPES)
def test_contiguous_every_dtype(rng, device, version, dtype):
    base = random_array(rng, (33, 65), dtype)
    if device == "cpu":
        y = bs.ops.contiguous(base.T, impl=version)
    else:
        if not CUDA:
            pytest.skip("no_cuda")
        # slice with steps on both dims: a non-mergeable 2-D CUDA view, no torch needed
        t = bs.ops.slice(bs.ops.slice(on_device(base, "cuda"), 0, 1, None, 2), 1, None, -3, 3)
        assert not t.is_contiguous()
        y = bs.ops.contiguous(t, impl=version)
        base = base[1::2, :-3:3]
        assert_same(y, base)
        return
    assert_same(y, np.ascontiguousarray(base.T))


def test_contiguous_of_contiguous_input_is_the_input(rng):
    x = random_array(rng, (4, 6))
    for version in versions("contiguous", "cpu"):
        y = bs.ops.contiguous(x, impl=version)
        assert np.shares_memory(x, y)
    y = bs.ops.contiguous(x.T)
    assert not np.shares_memory(x, y)


@pytest.mark.parametrize("device,version", all_versions("contiguous"))
def test_contiguous_with_more_dims_than_merge(rng, device, version):
    # 9 dims with strides that never merge: fine on the CPU, > 8 is unsupported on CUDA.
    base = random_array(rng, (4,) * 9)
    view = base[(slice(None, None, 2),) * 9]
    if device == "cpu":
        assert_same(bs.ops.contiguous(view, impl=version), np.ascontiguousarray(view))
        return
    x = cuda_view_of(view)
    if x is None:
        pytest.skip("torch is needed for a 9-d CUDA view")
    with pytest.raises(bs.UnsupportedError, match="at most 8"):
        bs.ops.contiguous(x, impl=version)


def test_tensor_contiguous_uses_the_fast_copy_and_keeps_values(rng):
    x = random_array(rng, (300, 200))
    t = bs.Tensor.from_numpy(x[:, 3::2])
    c = t.contiguous()
    assert c.is_contiguous() and c.owns_memory
    assert_same(c, np.ascontiguousarray(x[:, 3::2]))


@requires_cuda
def test_tensor_contiguous_on_cuda_views(rng):
    x = random_array(rng, (50, 70))
    t = bs.Tensor.from_numpy(x).to("cuda")
    v = bs.ops.slice(bs.ops.slice(t, 1, 5, None, 3), 0, -20, None)
    assert not v.is_contiguous() and v.device.startswith("cuda")
    c = v.contiguous()
    assert c.is_contiguous() and c.device == v.device
    assert_same(c, x[-20:, 5::3])
    assert_same(v, x[-20:, 5::3])  # to("cpu") of a strided CUDA view goes through it too
    # ops take strided CUDA inputs
    assert_same(bs.ops.transpose(v), np.ascontiguousarray(x[-20:, 5::3].T))
    np.testing.assert_allclose(to_host(bs.ops.add(v, v)), 2 * x[-20:, 5::3], rtol=1e-6)


@requires_cuda
def test_torch_cuda_views_become_contiguous(rng):
    torch = torch_cuda()
    x = torch.randn(33, 65, device="cuda")
    for view in (x.t(), x[:, 1::2], x[3:, 4:].t(), x.view(3, 11, 65).permute(2, 0, 1)):
        for version in versions("contiguous", "cuda"):
            y = bs.ops.contiguous(view, impl=version)
            assert isinstance(y, torch.Tensor) and y.is_contiguous()
            assert torch.equal(y, view.contiguous())
        assert torch.equal(torch.from_dlpack(bs.as_tensor(view).contiguous()), view.contiguous())
    assert torch.equal(bs.ops.transpose(x[:, ::2]), x[:, ::2].t().contiguous())


# ---- reshape -------------------------------------------------------------------------------------
def test_reshape_is_a_view_of_a_contiguous_input(rng):
    x = random_array(rng, (4, 6))
    y = bs.ops.reshape(x, (3, -1))
    assert y.shape == (3, 8)
    np.testing.assert_array_equal(y, x.reshape(3, 8))
    assert np.shares_memory(x, y)
    x[1, 2] = 1234.5  # a write through the base shows in the view ...
    assert y[1, 0] == 1234.5
    y[2, 7] = -7.0  # ... and the other way round
    assert x[3, 5] == -7.0


@pytest.mark.parametrize("shape,new", [((12,), (3, 4)), ((3, 4), (-1,)), ((2, 3, 4), (4, -1, 2)),
                                       ((2, 3, 4), (24, 1, 1)), ((1,), ()), ((), (1, 1)),
                                       ((0, 4), (-1, 2)), ((0, 4), (4, 0, 3)), ((5, 7), 35)])
def test_reshape_shapes(rng, shape, new):
    x = random_array(rng, shape)
    y = bs.ops.reshape(x, new)
    np.testing.assert_array_equal(y, x.reshape(new))


def test_reshape_of_a_strided_input_copies(rng):
    x = random_array(rng, (6, 8))
    y = bs.ops.reshape(x.T, (4, 12))
    np.testing.assert_array_equal(y, x.T.reshape(4, 12))
    assert not np.shares_memory(x, y)


def test_reshape_of_bs_tensors_keeps_the_storage(rng):
    t = bs.ops.randn((6, 4), seed=int(rng.integers(1 << 30)))
    r = bs.ops.reshape(t, (2, 12))
    assert isinstance(r, bs.Tensor) and r.data_ptr == t.data_ptr and r.shape == (2, 12)
    sliced = bs.ops.slice(t, 0, 2, 5)  # contiguous with an offset: still a view
    r2 = bs.ops.reshape(sliced, (-1,))
    assert r2.data_ptr == sliced.data_ptr and r2.byte_offset == sliced.byte_offset == 2 * 4 * 4
    np.testing.assert_array_equal(np.asarray(r2), np.asarray(t)[2:5].reshape(-1))


@requires_cuda
def test_reshape_on_cuda_is_a_view(rng):
    x = random_array(rng, (6, 10))
    t = bs.Tensor.from_numpy(x).to("cuda")
    r = bs.ops.reshape(t, (15, -1))
    assert r.data_ptr == t.data_ptr and r.device == t.device
    assert_same(r, x.reshape(15, 4))


def test_reshape_errors(rng):
    x = random_array(rng, (3, 4))
    with pytest.raises(bs.InvalidArgumentError,
                       match=r"reshape: cannot reshape x.shape=\[3, 4\] \(12 elements\) into shape=\[5, 3\] \(15"):
        bs.ops.reshape(x, (5, 3))
    with pytest.raises(bs.InvalidArgumentError, match=r"shape=\[-1, -1\] has more than one -1"):
        bs.ops.reshape(x, (-1, -1))
    with pytest.raises(bs.InvalidArgumentError, match=r"x.shape=\[3, 4\] \(12 elements\) into shape=\[5, -1\]"):
        bs.ops.reshape(x, (5, -1))
    with pytest.raises(bs.InvalidArgumentError, match=r"shape=\[2, -6\]: dimension 1 is -6"):
        bs.ops.reshape(x, (2, -6))
    with pytest.raises(bs.InvalidArgumentError, match="ambiguous"):
        bs.ops.reshape(random_array(rng, (0, 4)), (0, -1))
    with pytest.raises(bs.InvalidArgumentError, match="dimensions must be integers"):
        bs.ops.reshape(x, (3, 4.0))


# ---- slice ---------------------------------------------------------------------------------------
SLICES = [(0, 1, 4, 1), (0, -3, None, 1), (1, None, -2, 1), (1, 2, 9, 3), (-1, -9, -1, 2), (0, None, None, 4),
          (1, 5, 5, 1), (1, 7, 2, 1), (0, 0, 6, 7), (-2, -6, 6, 2), (1, 9, None, 1)]


@pytest.mark.parametrize("dim,start,stop,step", SLICES)
def test_slice_matches_numpy_and_shares_memory(rng, dim, start, stop, step):
    x = random_array(rng, (6, 9))
    index = [slice(None)] * 2
    index[dim] = slice(start, stop, step)
    ref = x[tuple(index)]
    y = bs.ops.slice(x, dim, start, stop, step)
    assert y.shape == ref.shape
    np.testing.assert_array_equal(y, ref)
    if ref.size:
        assert np.shares_memory(x, y)
        x[tuple(index)] += 100  # written through the base, seen in the view
        np.testing.assert_array_equal(y, x[tuple(index)])


def test_slice_of_slice_accumulates_offsets(rng):
    x = random_array(rng, (10, 12, 5))
    t = bs.Tensor.from_numpy(x)
    v = bs.ops.slice(bs.ops.slice(bs.ops.slice(t, 0, 2, 9, 2), 1, -8, None, 3), 2, 1, 4)
    ref = x[2:9:2, -8::3, 1:4]
    assert v.shape == ref.shape and v.strides == tuple(s // 4 for s in ref.strides)
    assert v.byte_offset == 2 * x.strides[0] + 4 * x.strides[1] + 1 * x.strides[2]
    assert v.data_ptr == x.ctypes.data + v.byte_offset
    np.testing.assert_array_equal(np.asarray(v), ref)


def test_offset_views_export_through_dlpack_and_buffer(rng):
    t = bs.ops.randn((7, 5), seed=int(rng.integers(1 << 30)))
    full = np.asarray(t).copy()
    rows = bs.ops.slice(t, 0, 3, 6)  # contiguous, byte offset 60
    cols = bs.ops.slice(t, 1, 1, None, 2)  # strided, byte offset 4
    assert rows.byte_offset == 3 * 5 * 4 and rows.is_contiguous()
    assert cols.byte_offset == 4 and not cols.is_contiguous()
    for view, ref in ((rows, full[3:6]), (cols, full[:, 1::2])):
        np.testing.assert_array_equal(np.from_dlpack(view), ref)  # DLPack
        np.testing.assert_array_equal(np.asarray(view), ref)  # buffer protocol
        np.testing.assert_array_equal(np.asarray(memoryview(view)), ref)
        np.testing.assert_array_equal(np.asarray(view.clone()), ref)  # clone / contiguous / to
        np.testing.assert_array_equal(np.asarray(view.contiguous()), ref)
        np.testing.assert_array_equal(np.asarray(view.to("cpu")), ref)
    kept = np.from_dlpack(rows)
    del t, rows  # the export keeps the storage alive
    np.testing.assert_array_equal(kept, full[3:6])


def test_ops_read_offset_views(rng):
    x = random_array(rng, (8, 16))
    t = bs.Tensor.from_numpy(x)
    v = bs.ops.slice(t, 0, 2, 7)
    np.testing.assert_allclose(np.asarray(bs.ops.softmax(v)), np.asarray(bs.ops.softmax(x[2:7])), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(bs.ops.transpose(v)), x[2:7].T)


@requires_cuda
def test_offset_views_on_cuda(rng):
    x = random_array(rng, (9, 11))
    t = bs.Tensor.from_numpy(x).to("cuda")
    rows = bs.ops.slice(t, 0, -4, None)
    assert rows.is_contiguous() and rows.data_ptr == t.data_ptr + 5 * 11 * 4
    assert_same(rows, x[-4:])
    assert_same(bs.ops.slice(t, 1, 2, 10, 4), x[:, 2:10:4])
    assert_same(bs.ops.concat([rows, bs.ops.slice(t, 0, 0, 2)], dim=0), np.concatenate([x[-4:], x[:2]]))


@requires_cuda
def test_offset_views_export_to_torch_cuda(rng):
    torch = torch_cuda()
    x = torch.randn(8, 6, device="cuda")
    v = bs.ops.slice(x, 1, 1, 5, 2)
    assert isinstance(v, torch.Tensor) and v.data_ptr() == x[:, 1:5:2].data_ptr()
    assert torch.equal(v, x[:, 1:5:2])
    x.add_(1)  # a write through the base shows in the view
    assert torch.equal(v, x[:, 1:5:2])


def test_slice_errors(rng):
    x = random_array(rng, (3, 5))
    with pytest.raises(bs.InvalidArgumentError, match=r"slice: dim=2 is out of range for x.shape=\[3, 5\]"):
        bs.ops.slice(x, 2, 0, 1)
    with pytest.raises(bs.InvalidArgumentError, match=r"slice: start=6 is out of range for dim=1 of size 5"):
        bs.ops.slice(x, 1, 6, None)
    with pytest.raises(bs.InvalidArgumentError, match=r"slice: stop=-4 is out of range for dim=0 of size 3"):
        bs.ops.slice(x, 0, None, -4)
    with pytest.raises(bs.InvalidArgumentError, match=r"slice: step=0 must be >= 1"):
        bs.ops.slice(x, 0, 0, 2, 0)
    with pytest.raises(bs.InvalidArgumentError, match=r"slice: step=-1"):
        bs.ops.slice(x, 0, None, None, -1)
    with pytest.raises(bs.InvalidArgumentError, match=r"slice: start=1.5 must be an integer or None"):
        bs.ops.slice(x, 0, 1.5, 2)
    with pytest.raises(bs.InvalidArgumentError, match="0-d"):
        bs.ops.slice(np.float32(1.0).reshape(()), 0, 0, 1)


# ---- concat --------------------------------------------------------------------------------------
CONCAT_CASES = [
    ([(3, 5), (4, 5), (1, 5)], 0),
    ([(3, 5), (3, 2), (3, 7)], 1),
    ([(3, 5), (3, 2)], -1),
    ([(1, 1)], 0),
    ([(2, 3, 4), (2, 1, 4), (2, 5, 4)], 1),
    ([(2, 3, 4), (2, 3, 1), (2, 3, 9)], 2),
    ([(2, 3, 4), (0, 3, 4), (5, 3, 4)], 0),
    ([(4, 0), (4, 3), (4, 0)], 1),
    ([(0, 6), (0, 6)], 0),
    ([(33, 65)] * 20, 0),
    ([(33, 65)] * 7, 1),
    ([(7,), (1,), (300,)], 0),
]


@pytest.mark.parametrize("device,version", all_versions("concat"))
@pytest.mark.parametrize("shapes,dim", CONCAT_CASES)
def test_concat_versions(rng, device, version, shapes, dim):
    xs = [random_array(rng, s) for s in shapes]
    y = bs.ops.concat([on_device(x, device) for x in xs], dim=dim, impl=version)
    assert_same(y, np.concatenate(xs, axis=dim))


@pytest.mark.parametrize("device,version", all_versions("concat"))
@pytest.mark.parametrize("dtype", DTYPES)
def test_concat_every_dtype(rng, device, version, dtype):
    # odd widths: on CUDA the word size drops to the element size
    xs = [random_array(rng, (5, w), dtype) for w in (3, 8, 1, 13)]
    for dim in (0, 1):
        parts = xs if dim == 1 else [x.T.copy() for x in xs]
        y = bs.ops.concat([on_device(x, device) for x in parts], dim=dim, impl=version)
        assert_same(y, np.concatenate(parts, axis=dim))


def test_concat_of_strided_inputs_and_a_new_result(rng):
    a, b = random_array(rng, (6, 4)), random_array(rng, (9, 6))
    for version in versions("concat", "cpu"):
        y = bs.ops.concat((a.T, b[::2, 1:5].T), dim=1, impl=version)
        np.testing.assert_array_equal(y, np.concatenate([a.T, b[::2, 1:5].T], axis=1))
        assert not np.shares_memory(y, a)


def test_concat_errors(rng):
    a, b = random_array(rng, (3, 4)), random_array(rng, (3, 5))
    with pytest.raises(bs.InvalidArgumentError,
                       match=r"concat: tensors\[2\].shape=\[3, 5\] does not match tensors\[0\].shape=\[3, 4\] "
                             r"outside dim=0"):
        bs.ops.concat([a, a, b], dim=0)
    with pytest.raises(bs.InvalidArgumentError, match=r"tensors\[1\].shape=\[12\] does not match"):
        bs.ops.concat([a, a.reshape(-1)], dim=0)
    with pytest.raises(bs.InvalidArgumentError, match=r"tensors\[1\].dtype=int32 differs from tensors\[0\].dtype="
                                                      r"float32"):
        bs.ops.concat([a, a.astype(np.int32)], dim=1)
    with pytest.raises(bs.InvalidArgumentError, match=r"concat: dim=2 is out of range for x.shape=\[3, 4\]"):
        bs.ops.concat([a, a], dim=2)
    with pytest.raises(bs.InvalidArgumentError, match="tensors is empty"):
        bs.ops.concat([], dim=0)
    with pytest.raises(bs.InvalidArgumentError, match="0-d"):
        bs.ops.concat([np.float32(1.0).reshape(())], dim=0)
    with pytest.raises(bs.InvalidArgumentError, match=r"tensors\[1\]: expected an array"):
        bs.ops.concat([a, "nope"], dim=0)
    with pytest.raises(bs.InvalidArgumentError, match="list or tuple"):
        bs.ops.concat(bs.Tensor.from_numpy(a), dim=0)


@requires_cuda
def test_concat_devices_must_match(rng):
    a = random_array(rng, (2, 3))
    with pytest.raises(bs.InvalidArgumentError, match=r"tensors\[1\] is on cuda"):
        bs.ops.concat([bs.Tensor.from_numpy(a), bs.Tensor.from_numpy(a).to("cuda")])


# ---- registry and benchmark cases -----------------------------------------------------------------
def test_registry_lists_the_versions():
    for op in ("transpose", "contiguous", "concat"):
        cpu = bs.ops.versions(op, "cpu")
        assert [v["version"] for v in cpu] == ["v1", "v2"]
        assert cpu[0]["reference"] and not cpu[1]["reference"]
        assert set(cpu[0]["dtypes"]) == {"float32", "float16", "bfloat16", "float64", "int8", "int32", "int64", "uint8"}
    if bs.build_config()["cuda"]["enabled"]:
        assert versions("transpose", "cuda") == ["v1", "v2"]
        assert versions("contiguous", "cuda") == ["v1"] and versions("concat", "cuda") == ["v1"]


CASES = [("transpose", dict(batch=3, rows=33, cols=65)), ("transpose", dict(batch=1, rows=1, cols=100)),
         ("concat", dict(parts=3, rows=17, cols=33, dim=0)), ("concat", dict(parts=5, rows=9, cols=7, dim=1)),
         ("contiguous", dict(rows=65, cols=33))]


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("case,params", CASES)
@pytest.mark.parametrize("dtype", ["float32", "int8", "float16"])
def test_cases_check_and_count(case, params, device, dtype):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    s = bs.HarnessSettings.smoke_settings()
    elements = params.get("batch", 1) * params.get("parts", 1) * params["rows"] * params["cols"]
    item = np.dtype(dtype).itemsize
    for version in versions(case, device):
        r = bs.measure(case, device=device, impl=version, settings=s, dtype=dtype, **params)
        assert r.status == "ok", (r.status, r.reason, r.error)
        assert r.metrics["correctness"]["passed"], r.metrics["correctness"]
        assert r.counters["bytes_read"] == r.counters["bytes_written"] == elements * item
        assert r.counters["items"] == elements


def test_case_bad_params():
    s = bs.HarnessSettings.smoke_settings()
    with pytest.raises(bs.InvalidArgumentError, match="concat: dim=3"):
        bs.measure("concat", dim=3, rows=4, cols=4, settings=s)
    with pytest.raises(bs.InvalidArgumentError, match="transpose: batch=0 must be >= 1"):
        bs.measure("transpose", batch=0, rows=4, cols=4, settings=s)
