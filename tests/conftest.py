"""Shared fixtures: fresh random data per test (never zeros) and CUDA availability."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs

CUDA, CUDA_REASON = bs.cuda_available()
requires_cuda = pytest.mark.skipif(not CUDA, reason=f"no_cuda: {CUDA_REASON}")
# A build whose CUDA kernels run on the CPU emulator (cmake -DBENCHSUITE_CUDA_EMULATOR=ON):
# results are checked as on a GPU, but timings are the emulator's (about 1000x slower).
CUDA_EMULATED = bool(bs.build_config()["cuda"].get("emulator", False))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under the emulator, tests of GPU timing (marker `hardware`) skip: they measure the GPU."""
    if not CUDA_EMULATED:
        return
    skip = pytest.mark.skip(reason="cuda_emulator: hardware tests measure a real GPU's timing")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)


def torch_cuda():
    """torch, for a test that puts torch tensors on CUDA; skips without torch or when torch
    has no CUDA device (a CPU-only torch, or the emulator build, whose CUDA torch cannot see)."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no_torch_cuda: torch sees no CUDA device")
    return torch


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator seeded from OS entropy: every run draws new inputs."""
    return np.random.default_rng()


def fast_settings(**changes) -> bs.HarnessSettings:
    """Small, quick harness settings for behaviour tests (not for figures)."""
    base = dict(warmup=1, min_samples=5, max_samples=50, min_time=0.01, max_noise=None, timeout=5.0,
                min_sample_time=1e-4)
    if CUDA_EMULATED:  # emulated kernels are slow: fewer samples, more time (only behaviour counts)
        base.update(min_samples=3, timeout=300.0)
    base.update(changes)
    return bs.HarnessSettings(**base)


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Baselines and the run history go to a fresh folder per test (and its subprocesses),
    never into the checkout's .benchsuite/."""
    monkeypatch.setenv("BENCHSUITE_DIR", str(tmp_path_factory.mktemp("benchsuite-state")))
