"""The environment record of a run: host, OS, CPU (model, governor, SMT), memory, GPUs
(driver, CUDA runtime, power limit, ECC, MIG, persistence mode, clocks at start), Python,
packages, the native build and the git state. Everything that can change a timing goes in
here, so results from different machines are never compared by accident: `fingerprint()`
picks the fields that change performance and `fingerprint_id()` hashes them (the key of
comparisons and baselines). `environment_warnings()` says when the machine looks noisy."""
from __future__ import annotations

import os
import hashlib
import json
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import _core

__all__ = ["capture_environment", "cpu_governor", "cpu_smt", "physical_cores", "git_state", "fingerprint",
           "fingerprint_id", "environment_warnings", "PACKAGES"]

#: Packages whose versions are recorded (None when not installed).
PACKAGES = ("benchsuite", "numpy", "torch", "cupy", "pytest", "pytest-benchmark", "jsonschema",
            "PyYAML", "rich", "nvidia-ml-py")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cpu_governor() -> str | None:
    """cpufreq scaling governor of CPU 0 (None where cpufreq is not exposed, e.g. in VMs)."""
    return _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")


def cpu_smt() -> dict[str, Any]:
    """Simultaneous multithreading: {"active": bool | None, "control": on | off | forceoff |
    notsupported | notimplemented | None} from /sys/devices/system/cpu/smt."""
    active = _read("/sys/devices/system/cpu/smt/active")
    return {"active": None if active not in ("0", "1") else active == "1",
            "control": _read("/sys/devices/system/cpu/smt/control")}


def physical_cores() -> int | None:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo; None when not listed."""
    text = _read("/proc/cpuinfo")
    if not text:
        return None
    cores, physical, core = set(), "0", None
    for line in text.splitlines() + [""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not line.strip():
            if core is not None:
                cores.add((physical, core))
            physical, core = "0", None
    return len(cores) or None


def cpu_max_mhz() -> float | None:
    khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if khz and khz.isdigit():
        return int(khz) / 1000.0
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.startswith("cpu MHz"):
            try:
                return float(line.split(":", 1)[1])
            except ValueError:
                return None
    return None


def git_state(cwd: str | os.PathLike | None = None) -> dict | None:
    """Commit and dirty flag when `cwd` is inside a git checkout, else None."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": None if status is None else bool(status.strip())}


def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


_NVML_FIELDS = ("power_limit_w", "ecc_enabled", "mig_enabled", "persistence_mode", "max_sm_clock_mhz",
                "default_sm_clock_mhz", "sm_clock_mhz", "clock_event_reasons", "other_compute_processes",
                "energy_counter")
_SLOWDOWN_REASONS = 0x4 | 0x8 | 0x20 | 0x40 | 0x80  # power cap, hw slowdown, thermal, power brake


def _gpu_state(index: int) -> dict[str, Any]:
    """NVML's view of one GPU (libnvidia-ml loaded at run time); None fields where unknown."""
    state = _core.nvml_device_state(index)
    out = {k: state.get(k) for k in _NVML_FIELDS}
    out["sm_clock_mhz_at_start"] = out.pop("sm_clock_mhz")
    out["clock_event_reasons_at_start"] = out.pop("clock_event_reasons")
    out["nvml_reason"] = state.get("reason")
    return out


def capture_environment_raw(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """The environment record without fingerprint_id and warnings (see capture_environment)."""
    cpu = _core.cpu_info()
    status = _core.cuda_status()
    nvml = _core.nvml_status()
    gpus = []
    if status["available"]:
        for device in _core.cuda_devices():
            device = dict(device)
            cuda_ecc = device.get("ecc_enabled")
            device.update(_gpu_state(device["index"]))
            device["driver"] = nvml["driver_version"]
            if device["ecc_enabled"] is None:  # no NVML: the CUDA property says it too
                device["ecc_enabled"] = cuda_ecc
            gpus.append(device)
    return {
        "host": socket.gethostname(),
        "os": {"system": platform.system(), "release": platform.release(),
               "version": platform.version(), "machine": platform.machine()},
        "cpu": {"model": cpu["model"], "logical_cores": os.cpu_count() or cpu["logical_cores"],
                "physical_cores": physical_cores(), "governor": cpu_governor(), "smt": cpu_smt(),
                "load_average_1m": _load_average(),
                "features": list(cpu["features"]), "max_mhz": cpu_max_mhz(),
                "l2_cache_bytes": cpu["l2_cache_bytes"], "l3_cache_bytes": cpu["l3_cache_bytes"],
                "openmp_threads": cpu["openmp_threads"],
                # the vendor CBLAS behind the matmul version of its name (None: why not)
                "blas": dict(cpu["blas"])},
        "memory": {"total_bytes": int(cpu["memory_total_bytes"])},
        "gpus": gpus,
        "cuda": {"compiled": bool(status["compiled"]), "available": bool(status["available"]),
                 "device_count": int(status["device_count"]), "reason": status["reason"]},
        "nvml": {"available": bool(nvml["available"]), "reason": nvml["reason"],
                 "driver_version": nvml["driver_version"]},
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "packages": _package_versions(),
        "build": _core.build_config(),
        "git": git_state(cwd),
    }


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):  # not on every platform
        return None


def environment_warnings(environment: dict[str, Any]) -> list[str]:
    """Signs of a noisy machine, or of timings that are not a GPU's: an emulator build, a
    CPU governor other than `performance`, other processes keeping at least half the cores
    busy (the 1-minute load average, less this process), GPU clocks below default (or
    slowed down) at start, other processes on a GPU."""
    out: list[str] = []
    if ((environment.get("build") or {}).get("cuda") or {}).get("emulator"):
        out.append("this build runs CUDA kernels on the CPU emulator (BENCHSUITE_CUDA_EMULATOR): CUDA results "
                   "check correctness; their timings are the emulator's, not a GPU's")
    cpu = environment.get("cpu") or {}
    load, cores = cpu.get("load_average_1m"), cpu.get("logical_cores")
    if load is not None and cores and load >= 1 + 0.5 * cores:
        out.append(f"1-minute load average {load:.2f} on {cores} logical cores: other processes compete for "
                   "the CPU, so CPU timings (OpenMP above all) will be slow and noisy")
    governor = cpu.get("governor")
    if governor is not None and governor != "performance":
        out.append(f"cpu governor is {governor!r}, not 'performance': CPU timings vary with frequency "
                   "scaling (set it with cpupower frequency-set -g performance)")
    for gpu in environment.get("gpus") or []:
        name = f"cuda:{gpu.get('index')} ({gpu.get('name')})"
        clock, default = gpu.get("sm_clock_mhz_at_start"), gpu.get("default_sm_clock_mhz")
        reasons = gpu.get("clock_event_reasons_at_start")
        idle = reasons is not None and bool(reasons & 0x1)
        if clock is not None and default and clock < default and not idle:
            out.append(f"{name}: SM clock {clock:.0f} MHz at start is below its default {default:.0f} MHz "
                       "while not idle")
        if reasons is not None and reasons & _SLOWDOWN_REASONS:
            names = [n for bit, n in ((0x4, "sw_power_cap"), (0x8, "hw_slowdown"), (0x20, "sw_thermal_slowdown"),
                                      (0x40, "hw_thermal_slowdown"), (0x80, "hw_power_brake_slowdown"))
                     if reasons & bit]
            out.append(f"{name}: clocks slowed down at start ({', '.join(names)})")
        others = gpu.get("other_compute_processes")
        if others:
            out.append(f"{name}: {others} other compute process(es) on the GPU")
    return out


def capture_environment(cwd: str | os.PathLike | None = None, print_warnings: bool = True) -> dict[str, Any]:
    """The environment record written into every run (see the results schema), with its
    `fingerprint_id` and `warnings` (printed to stderr unless print_warnings is False)."""
    env = capture_environment_raw(cwd)
    env["fingerprint_id"] = fingerprint_id(env)
    env["warnings"] = environment_warnings(env)
    if print_warnings:
        for text in env["warnings"]:
            print(f"benchsuite: warning: {text}", file=sys.stderr)
    return env


def fingerprint(environment: dict[str, Any]) -> dict[str, Any]:
    """The fields of an environment record that change performance: the machine (CPU model,
    cores, governor and SMT; each GPU with its driver, runtime, power limit, ECC and MIG
    mode) and how the native core was built. Host name, Python, package versions, git
    state, persistence mode (it changes start-up, not kernels) and the noisy-machine
    warnings are left out on purpose: a baseline must stay comparable across commits and
    across machines of the same kind."""
    cpu = environment.get("cpu") or {}
    build = environment.get("build") or {}
    cuda_build = build.get("cuda") or {}
    gpus = [{"name": g.get("name"), "compute_capability": g.get("compute_capability"),
             "driver_version": g.get("driver_version"), "driver": g.get("driver"),
             "cuda_runtime_version": g.get("cuda_runtime_version"),
             "power_limit_w": g.get("power_limit_w"), "ecc_enabled": g.get("ecc_enabled"),
             "mig_enabled": g.get("mig_enabled")}
            for g in environment.get("gpus") or []]
    return {
        "machine": (environment.get("os") or {}).get("machine"),
        "cpu_model": cpu.get("model"),
        "cpu_logical_cores": cpu.get("logical_cores"),
        "cpu_governor": cpu.get("governor"),
        "cpu_smt": (cpu.get("smt") or {}).get("active"),
        "gpus": gpus,
        "build": {"cxx_compiler": build.get("cxx_compiler"), "cxx_flags": build.get("cxx_flags"),
                  "native_arch": build.get("native_arch"),
                  "openmp_threads": (build.get("openmp") or {}).get("max_threads"),
                  "cuda": bool(cuda_build.get("enabled")),
                  "cuda_architectures": cuda_build.get("architectures"),
                  "cuda_compiler": cuda_build.get("compiler_version")},
    }


def fingerprint_id(environment: dict[str, Any]) -> str:
    """A short stable hash of `fingerprint(environment)`: the key baselines are stored under."""
    text = json.dumps(fingerprint(environment), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
