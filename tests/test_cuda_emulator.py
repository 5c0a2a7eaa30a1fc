"""The CUDA emulator itself (emulator builds only: BENCHSUITE_CUDA_EMULATOR=ON).

Its self-test kernels have known answers and known bugs: the emulator must compute what a
GPU computes and catch what a GPU run (a wrong answer, compute-sanitizer, a launch error)
would catch: a missing __syncthreads, cp.async read before its wait, a read past an
allocation, a deadlock, a block too large, dynamic shared memory over the default limit,
static plus dynamic shared memory over a block's limit.
"""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs
from benchsuite import _core
from conftest import CUDA_EMULATED

pytestmark = pytest.mark.skipif(not CUDA_EMULATED, reason="not an emulator build (BENCHSUITE_CUDA_EMULATOR=ON)")

THREADS = 64


def run(case: str) -> np.ndarray:
    return np.asarray(_core._emulator_selftest(case), dtype=np.float32)


def test_device_says_it_is_the_emulator():
    gpus = [d for d in bs.devices() if d["type"] == "cuda"]
    assert len(gpus) == 1 and "emulator" in gpus[0]["name"]
    assert bs.build_config()["cuda"]["runtime_linkage"] == "emulator"


def test_barrier_orders_shared_memory():
    np.testing.assert_array_equal(run("barrier"), (np.arange(THREADS) + 1) % THREADS + 1)


def test_missing_barrier_reads_uninitialised_shared_memory():
    # Threads run one after another between barriers, forwards or backwards (alternating by
    # block and launch): each reads its neighbour's slot, and whichever threads read before
    # the neighbour wrote see the 0xFF fill (NaN) of uninitialised shared memory.
    orders = set()
    for _ in range(2):
        out = run("missing_barrier")
        if np.isnan(out[:-1]).all():  # forwards: all but the last, which reads thread 0's slot
            assert out[-1] == 1.0
            orders.add("forwards")
        else:  # backwards: only the last, which reads thread 0's slot before thread 0 ran
            assert np.isnan(out[-1]) and not np.isnan(out[:-1]).any()
            np.testing.assert_array_equal(out[:-1], np.arange(THREADS - 1) + 2)
            orders.add("backwards")
    assert orders == {"forwards", "backwards"}  # consecutive launches alternate


def test_warp_shuffles():
    out = run("shuffle")
    lanes = np.arange(32)
    np.testing.assert_array_equal(out[:32], np.full(32, lanes.sum()))  # butterfly over the warp
    np.testing.assert_array_equal(out[32:64], (lanes // 8) * 64 + 28)  # 8-lane segments
    np.testing.assert_array_equal(out[64:], np.minimum(lanes + 1, 31))  # down by one; lane 31 keeps its own


def test_cp_async_lands_at_the_wait_and_not_before():
    out = run("cp_async")  # the input holds THREADS - 1 floats: the last copy reads the padding (0xFF)
    np.testing.assert_array_equal(out[:-1], np.arange(THREADS - 1) + 0.5)
    assert np.isnan(out[-1])
    assert np.isnan(run("cp_async_no_wait")).all()


def test_read_past_an_allocation_is_a_launch_error_naming_it():
    with pytest.raises(bs.CudaError, match=r"past_the_end_kernel \[emu/selftest.cu:\d+\]: invalid memory access .*, 4 bytes past the end "
                                           r"of a 252-byte device allocation .* by thread 63 of block \(0,0,0\)"):
        run("past_the_end")
    np.testing.assert_array_equal(run("barrier"), (np.arange(THREADS) + 1) % THREADS + 1)  # and the next launch works


def test_write_into_an_allocations_padding_is_found_after_the_launch():
    with pytest.raises(bs.CudaError, match=r"write_past_the_end_kernel \[emu/selftest.cu:\d+\]: a write 0 bytes past the end of a 252-byte "
                                           r"device allocation"):
        run("write_past_the_end")


def test_deadlock_is_reported_with_who_waits_where():
    with pytest.raises(bs.CudaError, match=r"deadlock_kernel \[emu/selftest.cu:\d+\]: deadlock in block \(0,0,0\): thread 0 waits at a "
                                           r"warp-synchronous call; thread 1 waits at __syncthreads"):
        run("deadlock")


def test_launch_limits_are_checked():
    with pytest.raises(bs.CudaError, match=r"cudaErrorInvalidConfiguration.*block of \(2048,1,1\) threads"):
        run("block_too_large")
    with pytest.raises(bs.CudaError, match=r"65536 bytes of dynamic shared memory exceed the kernel's limit of 49152"):
        run("big_smem_without_attribute")
    np.testing.assert_array_equal(run("big_smem"), np.full(THREADS, 2.0))  # after cudaFuncSetAttribute
    with pytest.raises(bs.CudaError, match=r"static \(40960 bytes\) plus dynamic \(194560 bytes\) shared memory "
                                           r"exceed the 232448 bytes a block may have"):
        run("static_plus_dynamic_smem")


def test_unknown_case_names_the_argument():
    with pytest.raises(bs.InvalidArgumentError, match="name=nope"):
        _core._emulator_selftest("nope")
