"""The environment record of a run: host, OS, CPU, memory, GPUs, Python, packages, the
native build and the git state. Everything that can change a timing goes in here, so
results from different machines are never compared by accident."""
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

from . import _core

__all__ = ["capture_environment", "cpu_governor", "physical_cores", "git_state", "fingerprint",
           "fingerprint_id", "PACKAGES"]

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


def _gpu_power_limits() -> dict[int, float]:
    """Enforced power limit per GPU index, in watts, through NVML when it is installed."""
    try:
        import pynvml  # nvidia-ml-py
    except ImportError:
        return {}
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver / no library: power limits are simply unknown
        return {}
    limits: dict[int, float] = {}
    try:
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            limits[i] = pynvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000.0
    except Exception:
        pass
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass
    return limits


def capture_environment(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """The environment record written into every run (see the results schema)."""
    cpu = _core.cpu_info()
    status = _core.cuda_status()
    gpus = []
    if status["available"]:
        limits = _gpu_power_limits()
        for device in _core.cuda_devices():
            device = dict(device)
            device["power_limit_w"] = limits.get(device["index"])
            gpus.append(device)
    return {
        "host": socket.gethostname(),
        "os": {"system": platform.system(), "release": platform.release(),
               "version": platform.version(), "machine": platform.machine()},
        "cpu": {"model": cpu["model"], "logical_cores": os.cpu_count() or cpu["logical_cores"],
                "physical_cores": physical_cores(), "governor": cpu_governor(),
                "features": list(cpu["features"]), "max_mhz": cpu_max_mhz(),
                "l2_cache_bytes": cpu["l2_cache_bytes"], "l3_cache_bytes": cpu["l3_cache_bytes"],
                "openmp_threads": cpu["openmp_threads"]},
        "memory": {"total_bytes": int(cpu["memory_total_bytes"])},
        "gpus": gpus,
        "cuda": {"compiled": bool(status["compiled"]), "available": bool(status["available"]),
                 "device_count": int(status["device_count"]), "reason": status["reason"]},
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "packages": _package_versions(),
        "build": _core.build_config(),
        "git": git_state(cwd),
    }


def fingerprint(environment: dict[str, Any]) -> dict[str, Any]:
    """The fields of an environment record that change performance: the machine (CPU model
    and cores, each GPU with its driver and runtime) and how the native core was built.
    Host name, Python, package versions and git state are left out on purpose: a baseline
    must stay comparable across commits and across machines of the same kind."""
    cpu = environment.get("cpu") or {}
    build = environment.get("build") or {}
    cuda_build = build.get("cuda") or {}
    gpus = [{"name": g.get("name"), "compute_capability": g.get("compute_capability"),
             "driver_version": g.get("driver_version"),
             "cuda_runtime_version": g.get("cuda_runtime_version")}
            for g in environment.get("gpus") or []]
    return {
        "machine": (environment.get("os") or {}).get("machine"),
        "cpu_model": cpu.get("model"),
        "cpu_logical_cores": cpu.get("logical_cores"),
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
