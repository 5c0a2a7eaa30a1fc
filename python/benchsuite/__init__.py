"""benchsuite: a performance benchmark suite for ML workloads with a native C++/CUDA core.

    import benchsuite as bs
    bs.build_config(); bs.devices()
    y = bs.ops.softmax(x)                     # NumPy, or a CUDA torch/cupy tensor
    r = bs.measure("softmax", rows=4096, cols=4096, dtype="float32", device="cuda")
    r = bs.measure(lambda: torch.softmax(t, -1), device="cuda", mode="graph")
    r.status, r.stats.median, r.metrics, r.to_dict()
    bs.list_cases("softmax"); run = bs.load_results("results/run.json")
    with bs.Profiler(device="cuda") as p: ...  # time, memory, energy of a block
"""
from __future__ import annotations

from typing import Any

from . import _core, models, ops
from ._core import Tensor, from_dlpack
from .core.config import Profile, load_profile
from .core.environment import fingerprint, fingerprint_id
from .core.errors import (BenchsuiteError, ConfigError, CudaError, CudaUnavailableError, EnvironmentMismatchError,
                          HistoryError, InvalidArgumentError, MeasurementInterrupted, OutputError, ResultsFileError,
                          RunWriteError, UnsupportedError)
from .core.results import RunResults, load_results
from .core.settings import HarnessSettings
from .harness import energy, memory
from .harness.energy import energy_status
from .harness.measure import Result, Stats, measure
from .harness.profiler import Profiler
from .harness.runner import CaseSpec, list_cases

__version__ = _core.build_config()["version"]

__all__ = [
    "__version__", "build_config", "devices", "cuda_available", "memory_stats", "reset_memory_stats",
    "ops", "models", "Tensor", "from_dlpack", "measure", "Result", "Stats", "HarnessSettings", "Profile",
    "load_profile", "list_cases", "CaseSpec", "load_results", "RunResults", "BenchsuiteError",
    "InvalidArgumentError", "UnsupportedError", "CudaUnavailableError", "CudaError", "ConfigError",
    "ResultsFileError", "EnvironmentMismatchError", "HistoryError", "OutputError", "RunWriteError",
    "MeasurementInterrupted", "Profiler", "energy", "memory", "energy_status", "fingerprint", "fingerprint_id",
    "compare_runs", "Thresholds", "History", "build_report", "collect_runs", "save_baseline",
]

# Reports, comparisons and the history pull in scipy and matplotlib: imported on first use.
_LAZY = {"compare_runs": "analysis.compare", "Thresholds": "analysis.compare", "History": "analysis.history",
         "build_report": "analysis.report", "collect_runs": "analysis.report", "save_baseline": "analysis.baseline"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'benchsuite' has no attribute {name!r}")


def build_config() -> dict[str, Any]:
    """What the native core was compiled with: version, CUDA (architectures, compiler),
    host compiler and flags, OpenMP."""
    return _core.build_config()


def devices() -> list[dict[str, Any]]:
    """The CPU and each usable CUDA device with its properties. When CUDA is not usable
    the list holds only the CPU; `cuda_available()` says why."""
    cpu = dict(_core.cpu_info(), type="cpu", name="cpu")
    return [cpu] + [dict(d, type="cuda", name_full=d["name"]) for d in _core.cuda_devices()]


def cuda_available() -> tuple[bool, str | None]:
    """(available, reason when not)."""
    status = _core.cuda_status()
    return bool(status["available"]), status["reason"]


def memory_stats(device: str = "cpu") -> dict[str, int]:
    """The tracking allocator's counters for benchsuite's own buffers on a device type."""
    return _core.memory_stats(device)


def reset_memory_stats(device: str = "cpu") -> None:
    _core.reset_memory_stats(device)
