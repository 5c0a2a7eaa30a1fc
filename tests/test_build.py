"""build_config() and devices() describe what was compiled and what is here."""
from __future__ import annotations

import shutil

import benchsuite as bs
from benchsuite import _core


def test_build_config_fields():
    cfg = bs.build_config()
    assert cfg["version"] == bs.__version__
    for key in ("build_type", "cxx_compiler", "cxx_flags", "openmp", "cuda", "native_arch"):
        assert key in cfg
    assert isinstance(cfg["cuda"]["enabled"], bool)
    assert "-O" in cfg["cxx_flags"]


def test_cuda_compiled_when_nvcc_present():
    # This repository's CI machine has nvcc: the CUDA kernels must have been built.
    if shutil.which("nvcc") is None:
        return
    cuda = bs.build_config()["cuda"]
    assert cuda["enabled"] is True
    assert cuda["architectures"], "architectures recorded"
    if cuda["emulator"]:  # the CPU emulator build compiles the kernels with the host compiler
        assert cuda["architectures"] == ["emulator"] and cuda["runtime_linkage"] == "emulator"
        return
    assert cuda["emulator"] is False
    assert cuda["compiler_version"]


def test_devices_lists_cpu_first_and_cuda_status_is_consistent():
    devices = bs.devices()
    assert devices[0]["type"] == "cpu"
    assert devices[0]["logical_cores"] >= 1
    assert devices[0]["memory_total_bytes"] > 0
    available, reason = bs.cuda_available()
    gpus = [d for d in devices if d["type"] == "cuda"]
    if available:
        assert gpus and reason is None
        for g in gpus:
            for key in ("name", "sm_count", "memory_total_bytes", "l2_cache_bytes", "sm_clock_mhz",
                        "memory_clock_mhz", "driver_version", "cuda_runtime_version",
                        "compute_capability"):
                assert g[key], key
    else:
        assert gpus == [] and reason


def test_op_versions_registered_with_descriptions():
    versions = bs.ops.versions()
    ops = {v["op"] for v in versions}
    assert {"fill", "randn", "add", "softmax", "matmul"} <= ops
    for v in versions:
        assert v["description"] and v["dtypes"]
    # every op has exactly one CPU reference version
    for op in ops:
        refs = [v for v in versions if v["op"] == op and v["reference"]]
        assert len(refs) == 1, op
    if bs.build_config()["cuda"]["enabled"]:
        assert any(v["device"] == "cuda" for v in versions)


def test_case_families_have_typed_params():
    families = {f["name"]: f for f in _core.case_families()}
    assert {"softmax", "matmul", "add", "copy", "spin", "busy_wait"} <= set(families)
    for f in families.values():
        for p in f["params"]:
            assert p["type"] in ("int", "float", "str", "bool")


def test_type_stub_lists_every_native_function():
    import ast
    from pathlib import Path

    stub = Path(bs.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    declared = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    public = {name for name in dir(_core) if not name.startswith("_")}
    # Op functions are described by the registry (_core.op_versions) and reached through
    # benchsuite.ops, which wraps any registered op: a new family adds no stub line.
    ops = {v["op"] for v in _core.op_versions()}
    missing = public - declared - ops
    assert not missing, f"_core.pyi is missing {sorted(missing)}: regenerate it with pybind11-stubgen"
