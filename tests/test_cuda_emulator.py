"""The CUDA emulator itself (emulator builds only: BENCHSUITE_CUDA_EMULATOR=ON).

Its self-test kernels (tools/cuda_emu/selftest.cu, installed with the emulator build as the
executable benchsuite/cuda_emu_selftest) have known answers and known bugs: the emulator must
compute what a GPU computes and catch what a GPU run (a wrong answer, compute-sanitizer, a
launch error) would catch: a missing __syncthreads, cp.async read before its wait, a read
past an allocation, a deadlock, a block too large, dynamic shared memory over the default
limit, static plus dynamic shared memory over a block's limit.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import benchsuite as bs
from conftest import CUDA_EMULATED

pytestmark = pytest.mark.skipif(not CUDA_EMULATED, reason="not an emulator build (BENCHSUITE_CUDA_EMULATOR=ON)")

THREADS = 64
SELFTEST = Path(bs.__file__).resolve().parent / "cuda_emu_selftest"


class EmulatorCudaError(Exception):
    """A launch or runtime error the emulator raised in a self-test case."""


def run_cases(*cases: str) -> list[np.ndarray | Exception]:
    """Runs the cases in order in one self-test process (the emulator's state carries over
    from one to the next, as in one program): each one's output, or the error it raised."""
    done = subprocess.run([str(SELFTEST), *cases], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results: list[np.ndarray | Exception] = []
    for case, line in zip(cases, done.stdout.splitlines(), strict=True):
        name, status, rest = (line.split(" ", 2) + [""])[:3]
        assert name == case, line
        if status == "ok":
            results.append(np.array([float(v) for v in rest.split()], dtype=np.float32))
        elif status == "cuda_error":
            results.append(EmulatorCudaError(rest))
        else:
            assert status == "invalid_argument", line
            results.append(ValueError(rest))
    return results


def outcome(result: np.ndarray | Exception) -> np.ndarray:
    if isinstance(result, Exception):
        raise result
    return result


def run(case: str) -> np.ndarray:
    return outcome(run_cases(case)[0])


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
    for result in run_cases("missing_barrier", "missing_barrier"):
        out = outcome(result)
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
    fault, after = run_cases("past_the_end", "barrier")
    with pytest.raises(EmulatorCudaError, match=r"past_the_end_kernel \[selftest.cu:\d+\]: invalid memory access .*, 4 bytes past the end "
                                                r"of a 252-byte device allocation .* by thread 63 of block \(0,0,0\)"):
        outcome(fault)
    np.testing.assert_array_equal(outcome(after), (np.arange(THREADS) + 1) % THREADS + 1)  # and the next launch works


def test_write_into_an_allocations_padding_is_found_after_the_launch():
    with pytest.raises(EmulatorCudaError, match=r"write_past_the_end_kernel \[selftest.cu:\d+\]: a write 0 bytes past the end of a "
                                                r"252-byte device allocation"):
        run("write_past_the_end")


def test_deadlock_is_reported_with_who_waits_where():
    with pytest.raises(EmulatorCudaError, match=r"deadlock_kernel \[selftest.cu:\d+\]: deadlock in block \(0,0,0\): thread 0 waits at "
                                                r"a warp-synchronous call; thread 1 waits at __syncthreads"):
        run("deadlock")


def test_launch_limits_are_checked():
    too_large, without_attribute, big, too_much = run_cases(
        "block_too_large", "big_smem_without_attribute", "big_smem", "static_plus_dynamic_smem")
    with pytest.raises(EmulatorCudaError, match=r"cudaErrorInvalidConfiguration.*block of \(2048,1,1\) threads"):
        outcome(too_large)
    with pytest.raises(EmulatorCudaError, match=r"65536 bytes of dynamic shared memory exceed the kernel's limit of 49152"):
        outcome(without_attribute)
    np.testing.assert_array_equal(outcome(big), np.full(THREADS, 2.0))  # after cudaFuncSetAttribute
    with pytest.raises(EmulatorCudaError, match=r"static \(40960 bytes\) plus dynamic \(194560 bytes\) shared memory "
                                                r"exceed the 232448 bytes a block may have"):
        outcome(too_much)


def test_unknown_case_names_the_argument():
    with pytest.raises(ValueError, match="name=nope"):
        run("nope")


def test_every_case_is_tested():
    listed = subprocess.run([str(SELFTEST), "--list"], capture_output=True, text=True, check=True).stdout.split()
    tested = {"barrier", "missing_barrier", "shuffle", "cp_async", "cp_async_no_wait", "past_the_end",
              "write_past_the_end", "deadlock", "block_too_large", "big_smem_without_attribute", "big_smem",
              "static_plus_dynamic_smem"}
    assert set(listed) == tested
