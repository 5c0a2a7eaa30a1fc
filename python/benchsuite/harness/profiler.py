"""`benchsuite.Profiler`: time, memory and energy of a block of code, for notebooks and tests.

    with bs.Profiler(device="cuda") as p:
        y = model(x)
    p.results            # {"wall_time_s", "cpu_time_s", "peak_host_memory_bytes", ...}
    p.result().to_dict() # the same as a results-schema record (status ok, one sample)
"""
from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

from .. import _core
from ..core.errors import InvalidArgumentError
from .energy import energy_record, unavailable

__all__ = ["Profiler"]


class Profiler:
    """Context manager measuring the block inside it: wall time, process CPU time, peak host
    memory (VmHWM, restarted at entry where the kernel allows), peak device memory (the
    tracking allocator's, plus PyTorch's when torch is in use) and energy (NVML counter or
    sampled power on a GPU, RAPL on the CPU; `unavailable` with the reason otherwise).

    On CUDA the device is synchronised at entry and exit so queued work is inside the block.
    A block shorter than ten energy-counter updates gets a coarse figure (said in the reason).
    """

    def __init__(self, device: str = "cpu", *, energy: bool = True, name: str = "block") -> None:
        if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
            raise InvalidArgumentError(f"device={device!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        self.device = "cuda:0" if device == "cuda" else device
        self.energy = energy
        self.name = name
        self.results: dict[str, Any] | None = None
        self._meter: Any = None
        self._cuda = self.device.startswith("cuda") and bool(_core.cuda_status()["available"])

    def _sync(self) -> None:
        if self._cuda:
            _core.synchronize(self.device)
            torch = sys.modules.get("torch")
            if torch is not None and torch.cuda.is_available():
                torch.cuda.synchronize(self.device)

    def __enter__(self) -> "Profiler":
        self._sync()
        kind = "cuda" if self.device.startswith("cuda") else "cpu"
        self._kind = kind
        _core.reset_memory_stats(kind)
        self._rss_reset = _core.reset_host_peak_rss()
        torch = sys.modules.get("torch")
        self._torch = torch if (self._cuda and torch is not None and torch.cuda.is_available()) else None
        if self._torch is not None:
            self._torch.cuda.reset_peak_memory_stats(self.device)
        if self.energy and (self._cuda or kind == "cpu"):
            self._meter = _core.EnergyMeter(self.device)
            self._meter.start()
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        try:
            self._sync()
        except Exception:
            if exc_type is None:
                raise
        wall = time.perf_counter() - self._wall0
        cpu = time.process_time() - self._cpu0
        raw_energy = self._meter.stop() if self._meter is not None else None
        memory = _core.memory_stats(self._kind)
        if raw_energy is not None:
            energy = energy_record(raw_energy, {}, wall)
            energy["repetitions"] = 1 if energy["source"] != "unavailable" else None
        elif not self.energy:
            energy = unavailable("energy not requested (Profiler(energy=False))")
        else:
            energy = unavailable(f"CUDA is unavailable ({_core.cuda_status()['reason']})")
        torch_peak = int(self._torch.cuda.max_memory_allocated(self.device)) if self._torch is not None else None
        self.results = {
            "name": self.name,
            "device": self.device,
            "wall_time_s": wall,
            "cpu_time_s": cpu,
            "peak_host_memory_bytes": _core.host_peak_rss_bytes(),
            "peak_host_memory_scope": "block" if self._rss_reset else "process",
            "peak_device_memory_bytes": (int(memory["peak_bytes"]) + (torch_peak or 0))
            if self._kind == "cuda" else None,
            "torch_peak_device_memory_bytes": torch_peak,
            "allocated_bytes": int(memory["allocated_bytes"]),
            "allocation_count": int(memory["allocation_count"]),
            "energy_j": energy["joules_per_iter"],
            "mean_power_w": energy["mean_power_w"],
            "energy": energy,
        }
        return False

    def to_dict(self) -> dict[str, Any]:
        """The results as a plain dict (raises when the block has not run yet)."""
        if self.results is None:
            raise InvalidArgumentError("Profiler.to_dict(): use it after the `with` block")
        return dict(self.results)

    def result(self):
        """The block as a results-schema `Result` (status ok, one sample = the block)."""
        from .measure import Result, Stats, metrics_record, memory_record

        r = self.to_dict()
        stats = Stats.from_dict(_core.compute_stats([r["wall_time_s"]]))
        result = Result(name=f"profiler[{self.name}]", case="profiler", group="profiler", params={},
                        backend="python", device=self.device, status="ok", stats=stats,
                        samples=[r["wall_time_s"]])
        result.measurement = {
            "mode": "profiler", "timer": "perf_counter",
            "timer_resolution_s": time.get_clock_info("perf_counter").resolution, "warmup": 0,
            "min_samples": 1, "max_samples": 1, "min_time": 0.0, "max_noise": None, "timeout": None,
            "launches_per_sample": None, "loops_per_sample": 1, "stop_reason": "block_finished",
            "total_time_s": r["wall_time_s"], "smoke": False,
        }
        result.metrics = metrics_record(stats, {}, self.device, r["peak_device_memory_bytes"], None)
        result.metrics["memory"] = memory_record(
            {"allocated_bytes": r["allocated_bytes"], "peak_bytes": r["peak_device_memory_bytes"] or 0,
             "allocation_count": r["allocation_count"]}, None, r["peak_host_memory_bytes"],
            r["peak_host_memory_scope"] == "block")
        result.metrics["energy"] = r["energy"]
        result.extra = {"cpu_time_s": r["cpu_time_s"]}
        return result

    def __repr__(self) -> str:
        if self.results is None:
            return f"<Profiler {self.name} on {self.device}: not run>"
        r = self.results
        energy = f"{r['energy_j']:.4g} J" if r["energy_j"] is not None else r["energy"]["source"]
        return f"<Profiler {self.name} on {self.device}: {r['wall_time_s'] * 1e3:.4g} ms, energy {energy}>"
