"""bs.Tensor: zero-copy round trips through the buffer protocol and DLPack, device
copies, the tracking allocator, and clear errors for bad inputs."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs
from benchsuite import _core

from conftest import CUDA, requires_cuda, torch_cuda

DTYPES = [np.float32, np.float16, np.float64, np.int8, np.int32, np.int64, np.uint8]


def random_array(rng, shape, dtype):
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -100), min(info.max, 100), size=shape, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (1, 9), (9, 1), (0, 4)])
def test_numpy_round_trip_without_copy(rng, dtype, shape):
    x = random_array(rng, shape, dtype)
    t = bs.Tensor.from_numpy(x)
    assert t.shape == shape and t.dtype == np.dtype(dtype).name and t.device == "cpu"
    assert not t.owns_memory
    back = np.asarray(t)
    np.testing.assert_array_equal(back, x)
    if x.size:
        assert back.ctypes.data == x.ctypes.data  # same memory, no copy
        x.flat[0] += 1
        assert back.flat[0] == x.flat[0]


def test_strided_views_keep_strides_and_contiguous_copies(rng):
    x = rng.standard_normal((6, 8)).astype(np.float32)
    view = x[::2, 1::3]
    t = bs.Tensor.from_numpy(view)
    assert t.shape == view.shape
    assert t.strides == (16, 3)
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.owns_memory
    np.testing.assert_array_equal(np.asarray(c), view)


def test_tensor_keeps_numpy_memory_alive(rng):
    x = rng.standard_normal(1000).astype(np.float32)
    expected = x.copy()
    t = bs.Tensor.from_numpy(x)
    del x
    np.testing.assert_array_equal(np.asarray(t), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dlpack_to_numpy_and_back(rng, dtype):
    x = random_array(rng, (4, 6), dtype)
    t = bs.from_dlpack(x)
    assert t.shape == (4, 6) and t.data_ptr == x.ctypes.data
    y = np.from_dlpack(t)
    np.testing.assert_array_equal(y, x)
    assert y.ctypes.data == x.ctypes.data
    assert t.__dlpack_device__() == (1, 0)


def test_dlpack_capsule_consumed_once(rng):
    x = rng.standard_normal(5).astype(np.float32)
    capsule = x.__dlpack__()
    t = bs.from_dlpack(capsule)
    np.testing.assert_array_equal(np.asarray(t), x)
    with pytest.raises(bs.InvalidArgumentError, match="already used"):
        bs.from_dlpack(capsule)


def test_owned_tensor_exports_through_dlpack_and_outlives_python_reference(rng):
    t = bs.ops.randn((3, 4), seed=int(rng.integers(1 << 31)))
    y = np.from_dlpack(t)
    expected = np.asarray(t).copy()
    del t
    np.testing.assert_array_equal(y, expected)


def test_torch_cpu_round_trip(rng):
    torch = pytest.importorskip("torch")
    x = torch.randn(5, 7)
    t = bs.from_dlpack(x)
    assert t.data_ptr == x.data_ptr()
    y = torch.from_dlpack(t)
    assert torch.equal(x, y)
    xb = torch.randn(4, 4).to(torch.bfloat16)
    tb = bs.from_dlpack(xb)
    assert tb.dtype == "bfloat16"
    assert torch.equal(torch.from_dlpack(tb), xb)


def test_bfloat16_has_no_numpy_buffer():
    t = bs.ops.randn((2, 2), dtype="bfloat16")
    with pytest.raises(bs.UnsupportedError, match="bfloat16"):
        t.numpy()
    with pytest.raises(BufferError):
        memoryview(t)


def test_bad_inputs_name_the_argument(rng):
    # float64 arrays are tensors (the references take them); the fast versions name the dtype
    with pytest.raises(bs.UnsupportedError, match="dtype=float64 is not supported"):
        bs.ops.softmax(rng.standard_normal((3, 3)), impl="v2")
    with pytest.raises(bs.UnsupportedError, match="x: buffer format 'Zf'"):
        bs.ops.softmax(rng.standard_normal((3, 3)).astype(np.complex64))
    with pytest.raises(bs.InvalidArgumentError, match="expected an array"):
        bs.ops.softmax("not an array")
    with pytest.raises(bs.InvalidArgumentError, match="'cuda:x'"):
        _core.empty([2], "float32", "cuda:x")
    with pytest.raises(bs.InvalidArgumentError, match="'float65'"):
        _core.empty([2], "float65", "cpu")
    with pytest.raises(bs.InvalidArgumentError, match=r"shape=\[2, -3\]"):
        _core.empty([2, -3], "float32", "cpu")


def test_errors_carry_source_location():
    with pytest.raises(bs.InvalidArgumentError) as info:
        _core.empty([2], "float65", "cpu")
    assert info.value.source_file.startswith("csrc/")
    assert info.value.source_line > 0
    assert "csrc/" in str(info.value)


def test_tracking_allocator_counts_and_peak():
    bs.reset_memory_stats("cpu")
    before = bs.memory_stats("cpu")
    a = _core.empty([1000], "float32", "cpu")
    b = _core.empty([500], "int64", "cpu")
    during = bs.memory_stats("cpu")
    assert during["bytes_in_use"] - before["bytes_in_use"] == 4000 + 4000
    assert during["allocation_count"] == 2
    assert during["peak_bytes"] >= during["bytes_in_use"]
    del a, b
    after = bs.memory_stats("cpu")
    assert after["bytes_in_use"] == before["bytes_in_use"]
    assert after["peak_bytes"] == during["peak_bytes"]  # peak survives frees until reset
    bs.reset_memory_stats("cpu")
    assert bs.memory_stats("cpu")["peak_bytes"] == after["bytes_in_use"]


def test_cuda_without_device_is_a_clear_error():
    if CUDA:
        pytest.skip("a CUDA device is present")
    with pytest.raises(bs.CudaUnavailableError) as info:
        _core.empty([4], "float32", "cuda")
    assert info.value.reason == "no_cuda"
    assert "CUDA is unavailable" in str(info.value)


@requires_cuda
def test_cuda_round_trip(rng):
    x = rng.standard_normal((33, 17)).astype(np.float32)
    t = bs.Tensor.from_numpy(x).to("cuda")
    assert t.device == "cuda:0" and t.__dlpack_device__() == (2, 0)
    with pytest.raises(bs.InvalidArgumentError, match="to\\('cpu'\\)"):
        t.numpy()
    np.testing.assert_array_equal(np.asarray(t.to("cpu")), x)


@requires_cuda
def test_torch_cuda_dlpack_round_trip():
    torch = torch_cuda()
    x = torch.randn(64, 33, device="cuda")
    t = bs.from_dlpack(x)
    assert t.device == "cuda:0" and t.data_ptr == x.data_ptr()
    y = torch.from_dlpack(t)
    assert y.data_ptr() == x.data_ptr()
    assert torch.equal(x, y)
