"""Energy in results: the measured record (NVML counter, sampled power or RAPL, from the
native harness), the metrics derived from it (mJ per item, FLOP per joule, energy-delay
product), and the separate `estimated` figure of an energy model (configs/energy/).

Measurement happens in the C++ harness (harness/energy.*) when asked: HarnessSettings
(energy=True), the profile key harness.energy, or BENCH_ENERGY=1. An estimate is always
labelled `estimated` and lives in metrics.energy_estimate, never in metrics.energy.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Mapping

import yaml

from .. import _core
from ..core.errors import ConfigError
from ..core.fields import number

__all__ = ["ENERGY_SOURCES", "energy_status", "energy_record", "unavailable", "derived_metrics",
           "load_energy_model", "estimate_energy", "ENERGY_MODEL_FILE"]

ENERGY_SOURCES = ("nvml_counter", "sampled_power", "rapl", "unavailable")
ENERGY_MODEL_FILE = "energy_model.yaml"
_RECORD_KEYS = ("source", "reason", "joules_per_iter", "mean_power_w", "repetitions", "window_s",
                "counter_updates")
_EXTRA_KEYS = ("counter_joules", "sampled_power_joules_per_iter", "sampled_power_mean_w",
               "power_samples")


def unavailable(reason: str) -> dict[str, Any]:
    """A metrics.energy record that says energy was not measured, and why."""
    record: dict[str, Any] = dict.fromkeys(_RECORD_KEYS)
    record.update(source="unavailable", reason=reason, derived=derived_metrics(None, {}, None))
    return record


def energy_status(device: str = "cpu") -> dict[str, Any]:
    """Whether energy can be measured on `device` now: {available, source, reason}."""
    if device.startswith("cuda"):
        nvml = _core.nvml_status()
        if not nvml["available"]:
            return {"available": False, "source": "unavailable", "reason": nvml["reason"]}
        index = int(device.split(":")[1]) if ":" in device else 0
        state = _core.nvml_device_state(index)
        if not state["available"]:
            return {"available": False, "source": "unavailable", "reason": state["reason"]}
        if state["energy_counter"]:
            return {"available": True, "source": "nvml_counter", "reason": None}
        if state["power_w"] is not None:
            return {"available": True, "source": "sampled_power",
                    "reason": "no total-energy counter on this GPU: sampled power is integrated"}
        return {"available": False, "source": "unavailable",
                "reason": "the GPU reports neither an energy counter nor power"}
    rapl = _core.RaplMonitor()
    if rapl.ok:
        return {"available": True, "source": "rapl", "reason": None}
    return {"available": False, "source": "unavailable", "reason": rapl.reason}


def derived_metrics(joules_per_iter: float | None, counters: Mapping[str, Any],
                    seconds_per_iter: float | None) -> dict[str, Any]:
    """mJ per item (inference, token, sample: the case's item unit), FLOP per joule and the
    energy-delay product (J x s per iteration) where the case has those counters."""
    out: dict[str, Any] = {"mj_per_iter": None, "mj_per_item": None,
                           "item_unit": counters.get("item_unit"), "flop_per_joule": None,
                           "energy_delay_product": None}
    j = number(joules_per_iter)
    if j is None or j <= 0:
        return out
    out["mj_per_iter"] = j * 1e3
    items, flops = number(counters.get("items")), number(counters.get("flops"))
    if items:
        out["mj_per_item"] = j * 1e3 / items
    if flops:
        out["flop_per_joule"] = flops / j
    t = number(seconds_per_iter)
    if t is not None and t > 0:
        out["energy_delay_product"] = j * t
    return out


def energy_record(raw: Mapping[str, Any] | None, counters: Mapping[str, Any],
                  seconds_per_iter: float | None) -> dict[str, Any]:
    """metrics.energy from the harness' energy dict: the fields the report reads, the
    derived metrics, and the cross-check (counter vs. integrated sampled power) under `check`."""
    if raw is None:
        return unavailable("energy was not measured")
    record = {k: raw.get(k) for k in _RECORD_KEYS}
    if record["source"] not in ENERGY_SOURCES:
        record["source"] = "unavailable"
    for key in _EXTRA_KEYS:
        record[key] = raw.get(key)
    sampled, counted = number(raw.get("sampled_power_joules_per_iter")), number(raw.get("joules_per_iter"))
    if record["source"] == "nvml_counter" and sampled and counted:
        record["counter_vs_sampled_power"] = (counted - sampled) / sampled
    record["derived"] = derived_metrics(record["joules_per_iter"], counters, seconds_per_iter)
    return record


# --------------------------------------------------------------------------- estimate

def _model_candidates(name: str) -> list[Path]:
    from ..core.config import profile_dirs
    return [d / "energy" / name for d in profile_dirs()]


@functools.lru_cache(maxsize=8)
def _load_model(path: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError("energy_model", path, f"cannot read: {e}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("devices"), dict):
        raise ConfigError("devices", raw, "expected a mapping devices: {cuda: ..., cpu: ...}", path)
    for device, spec in raw["devices"].items():
        key = f"devices.{device}"
        if not isinstance(spec, dict):
            raise ConfigError(key, spec, "expected a mapping with pj_per_flop and pj_per_byte", path)
        flop = spec.get("pj_per_flop")
        if not isinstance(flop, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in flop.values()):
            raise ConfigError(f"{key}.pj_per_flop", flop, "expected a mapping dtype -> pJ (>= 0)", path)
        byte = spec.get("pj_per_byte")
        if not isinstance(byte, (int, float)) or isinstance(byte, bool) or byte < 0:
            raise ConfigError(f"{key}.pj_per_byte", byte, "expected a number of pJ >= 0", path)
    raw["file"] = Path(path).name
    return raw


def load_energy_model(path: str | Path | None = None) -> dict[str, Any]:
    """The energy model: `path`, or configs/energy/energy_model.yaml (./configs first, then
    the bundled copy). Raises ConfigError naming the bad key."""
    if path is None:
        found = next((p for p in _model_candidates(ENERGY_MODEL_FILE) if p.is_file()), None)
        if found is None:
            raise ConfigError("energy_model", ENERGY_MODEL_FILE, "not found under configs/energy/")
        path = found
    return _load_model(str(Path(path).resolve()))


def estimate_energy(counters: Mapping[str, Any], device: str,
                    model: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """metrics.energy_estimate: FLOPs and bytes times the model's per-operation constants,
    labelled `estimated`; None when the case counts neither FLOPs nor bytes."""
    flops = number(counters.get("flops")) or 0.0
    moved = (number(counters.get("bytes_read")) or 0.0) + (number(counters.get("bytes_written")) or 0.0)
    if not flops and not moved:
        return None
    try:
        model = model or load_energy_model()
    except ConfigError:
        return None
    spec = model["devices"].get("cuda" if device.startswith("cuda") else "cpu")
    if spec is None:
        return None
    dtype = counters.get("math_dtype") or "float32"
    pj_flop = spec["pj_per_flop"].get(dtype, spec["pj_per_flop"].get("float32"))
    flop_j = flops * pj_flop * 1e-12 if (flops and pj_flop is not None) else 0.0
    byte_j = moved * spec["pj_per_byte"] * 1e-12
    return {"source": "estimated", "joules_per_iter": flop_j + byte_j, "model": model.get("file", ENERGY_MODEL_FILE),
            "compute_joules": flop_j, "memory_joules": byte_j, "math_dtype": dtype,
            "pj_per_flop": pj_flop, "pj_per_byte": spec["pj_per_byte"]}
