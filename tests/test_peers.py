"""Peers (NumPy and PyTorch on CPU, PyTorch on CUDA) measured beside our cases, with speedups."""
from __future__ import annotations

import importlib.util
import pkgutil
import sys

import pytest

import benchsuite.peers as peers_module
from benchsuite import _core
from benchsuite.core.results import validate_record
from benchsuite.harness.runner import CaseSpec, run_case
from benchsuite.peers import PEERS, PeerSkip, measure_peers, on_devices, peers_for

from conftest import fast_settings

TORCH = importlib.util.find_spec("torch") is not None
requires_torch = pytest.mark.skipif(not TORCH, reason="peer_missing: torch is not installed")


def test_every_peer_family_is_a_registered_case():
    families = {f["name"] for f in _core.case_families()}
    assert set(PEERS) <= families
    for case, devices in PEERS.items():  # and on the devices it runs on
        family = next(f for f in _core.case_families() if f["name"] == case)
        assert set(devices) <= set(family["devices"]), case


def test_case_record_carries_numpy_speedup():
    spec = CaseSpec(case="softmax", device="cpu", version="v2", params={"rows": 64, "cols": 128, "dtype": "float32"})
    cache: dict = {}
    r = run_case(spec, fast_settings(), cache)
    peer = r.metrics["peers"]["numpy"]
    assert peer["status"] in ("ok", "invalid") and peer["median_s"] > 0
    assert peer["speedup"] == pytest.approx(peer["median_s"] / r.stats.median)
    validate_record(r.to_dict())
    # a second version of the same case reuses the peer measurement
    r2 = run_case(CaseSpec(case="softmax", device="cpu", version="v1", params=spec.params), fast_settings(), cache)
    assert r2.metrics["peers"]["numpy"]["median_s"] == peer["median_s"]
    assert len(cache) == 1


def test_peers_off_leaves_no_peer_metrics():
    spec = CaseSpec(case="add", device="cpu", version="v1", params={"n": 1000, "dtype": "float32"})
    assert "peers" not in run_case(spec, fast_settings(), None).metrics


@pytest.mark.parametrize("case,params", [
    ("matmul", {"m": 8, "n": 9, "k": 10, "batch": 2}), ("sum", {"rows": 4, "cols": 5, "all": True}),
    ("layernorm", {"rows": 4, "cols": 8}), ("gelu", {"n": 100}), ("axpy", {"n": 100}), ("randn", {"n": 100}),
])
def test_numpy_peers_run(case, params):
    out = measure_peers(case, params, "cpu", 1e-3, fast_settings())
    assert out["numpy"]["status"] in ("ok", "invalid"), out
    assert out["numpy"]["speedup"] == pytest.approx(out["numpy"]["median_s"] / 1e-3)


@pytest.mark.parametrize("device", ["cpu", "cuda:0"])
def test_missing_peer_is_a_skipped_comparison(monkeypatch, device):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "torch" else real_find_spec(name, *args))
    out = measure_peers("softmax", {"rows": 4, "cols": 4}, device, 1e-3, fast_settings())
    assert out["torch"]["status"] == "skipped"
    assert out["torch"]["reason"] == "peer_missing: torch is not installed"


def test_low_precision_matmul_has_no_numpy_peer():
    out = measure_peers("matmul", {"m": 4, "n": 4, "k": 4, "dtype": "bfloat16"}, "cpu", 1e-3, fast_settings())
    assert out["numpy"]["status"] == "skipped" and out["numpy"]["reason"].startswith("unsupported_dtype")


@pytest.mark.parametrize("case,params", [
    ("transpose", {"batch": 2, "rows": 5, "cols": 7}), ("contiguous", {"rows": 5, "cols": 7}),
    ("concat", {"parts": 3, "rows": 4, "cols": 6, "dim": 1}),
    ("embedding", {"vocab": 50, "dim": 8, "tokens": 20}), ("embedding_backward", {"vocab": 50, "dim": 8, "tokens": 20}),
    ("cross_entropy", {"rows": 4, "classes": 11}), ("cross_entropy_backward", {"rows": 4, "classes": 11}),
    ("rope", {"batch": 1, "seq_len": 5, "heads": 2, "head_dim": 8}),
    ("rope_backward", {"batch": 1, "seq_len": 5, "heads": 2, "head_dim": 8}),
])
def test_numpy_peers_of_movement_and_nn_ops(case, params):
    out = measure_peers(case, params, "cpu", 1e-3, fast_settings())
    assert out["numpy"]["status"] in ("ok", "invalid"), out


def test_ops_without_a_peer_say_so():
    out = measure_peers("selective_scan", {"batch": 1, "seq_len": 4, "dim": 2, "state": 3, "chunk": 2}, "cpu",
                        1e-3, fast_settings())
    assert out["numpy"]["status"] == "skipped" and out["numpy"]["reason"].startswith("peer_unsupported")


def test_numpy_attention_peer():
    out = measure_peers("attention", {"batch": 1, "heads": 2, "seq_len": 33, "head_dim": 8, "causal": True}, "cpu",
                        1e-3, fast_settings())
    assert out["numpy"]["status"] in ("ok", "invalid") and out["numpy"]["median_s"] > 0


# ---- the package: one module per family, merged -------------------------------------------

def test_every_family_module_is_merged():
    modules = {"creation", "memory", "elementwise", "reduce", "softmax", "norms", "matmul", "manipulation", "nn",
               "scan", "attention"}
    found = {m.name for m in pkgutil.iter_modules(peers_module.__path__) if not m.name.startswith("_")}
    assert modules <= found
    for name in found:
        module = sys.modules[f"benchsuite.peers.{name}"]
        for case, devices in module.PEERS.items():
            assert PEERS[case] is devices, (name, case)


def test_a_new_family_adds_only_its_module(tmp_path, monkeypatch):
    """A package of peer modules is merged by listing it: a new module's PEERS join with no
    edit elsewhere, "_" modules are helpers, and a case in two modules is an error."""
    pkg = tmp_path / "fakepeers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sigmoidish.py").write_text("from benchsuite.peers import on_devices\n"
                                       "PEERS = {'sigmoidish': on_devices(numpy=lambda p, d: (lambda: None))}\n")
    (pkg / "_helpers.py").write_text("PEERS = {'ignored': {}}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    table = peers_module._collect([str(pkg)], "fakepeers")
    assert set(table) == {"sigmoidish"} and set(table["sigmoidish"]["cpu"]) == {"numpy"}
    (pkg / "twice.py").write_text("from fakepeers.sigmoidish import PEERS\n")
    with pytest.raises(RuntimeError, match="'sigmoidish' are in both"):
        peers_module._collect([str(pkg)], "fakepeers")


def test_cpu_cases_have_a_torch_peer_beside_numpy():
    for case, devices in PEERS.items():
        if "cuda" in devices:  # a PyTorch equivalent (or the reason there is none): on the CPU too
            assert list(peers_for(case, "cpu"))[-1] == "torch", case
            assert peers_for(case, "cpu")["torch"] == peers_for(case, "cuda:1")["torch"], case
        if "numpy" in devices.get("cpu", {}):
            assert list(peers_for(case, "cpu"))[0] == "numpy", case
    assert set(peers_for("attention_backward", "cpu")) == {"torch"}
    assert peers_module._Skip is PeerSkip


def test_on_devices_puts_torch_on_both_devices():
    def np_builder(p, device):
        return lambda: None

    def torch_builder(p, device):
        return lambda: None
    assert on_devices(numpy=np_builder, torch=torch_builder) == {
        "cpu": {"numpy": ("numpy", np_builder), "torch": ("torch", torch_builder)},
        "cuda": {"torch": ("torch", torch_builder)}}
    assert on_devices(numpy=np_builder) == {"cpu": {"numpy": ("numpy", np_builder)}}


# ---- PyTorch on the CPU ----------------------------------------------------------------------

@requires_torch
@pytest.mark.parametrize("case,params", [
    ("softmax", {"rows": 64, "cols": 128}), ("matmul", {"m": 32, "n": 48, "k": 40}),
    ("matmul", {"m": 8, "n": 9, "k": 10, "batch": 2}), ("layernorm", {"rows": 4, "cols": 64, "dtype": "bfloat16"}),
])
def test_torch_cpu_peer_is_measured(case, params):
    out = measure_peers(case, params, "cpu", 1e-3, fast_settings())
    torch = out["torch"]
    assert torch["status"] in ("ok", "invalid") and torch["median_s"] > 0, out
    assert torch["speedup"] == pytest.approx(torch["median_s"] / 1e-3)
    assert torch["threads"] == peers_module._torch.harness_threads()


@requires_torch
def test_case_record_carries_torch_cpu_speedup():
    spec = CaseSpec(case="softmax", device="cpu", version="v2", params={"rows": 64, "cols": 128, "dtype": "float32"})
    r = run_case(spec, fast_settings(), {})
    assert list(r.metrics["peers"]) == ["numpy", "torch"]
    peer = r.metrics["peers"]["torch"]
    assert peer["status"] in ("ok", "invalid") and peer["speedup"] == pytest.approx(peer["median_s"] / r.stats.median)
    validate_record(r.to_dict())


@requires_torch
def test_torch_threads_match_the_harness_and_are_put_back(monkeypatch):
    import torch
    core_threads = _core.build_config()["openmp"]["max_threads"]
    before = torch.get_num_threads()
    seen = {}

    def spy(p, device):
        seen["build"] = torch.get_num_threads()

        def run():
            seen["run"] = torch.get_num_threads()
            return torch.softmax(torch.ones(4, 4), -1)
        return run
    monkeypatch.setitem(PEERS["softmax"]["cpu"], "torch", ("torch", spy))
    out = measure_peers("softmax", {"rows": 4, "cols": 4}, "cpu", 1e-3, fast_settings())
    assert out["torch"]["status"] in ("ok", "invalid"), out
    assert seen == {"build": core_threads, "run": core_threads} and out["torch"]["threads"] == core_threads
    assert torch.get_num_threads() == before
    assert _core.build_config()["openmp"]["max_threads"] == core_threads  # our kernels' count untouched

    # a harness count other than torch's: torch runs on it, and gets its own back after
    other = 1 if before != 1 else 2
    monkeypatch.setattr(peers_module._torch, "harness_threads", lambda: other)
    out = measure_peers("softmax", {"rows": 4, "cols": 4}, "cpu", 1e-3, fast_settings())
    assert seen["run"] == other and out["torch"]["threads"] == other
    assert torch.get_num_threads() == before


def test_harness_threads_is_the_cores_openmp_count():
    openmp = _core.build_config()["openmp"]
    assert peers_module._torch.harness_threads() == (openmp["max_threads"] if openmp["enabled"] else 1)


@pytest.mark.parametrize("message", ['"softmax_lastdim_kernel_impl" not implemented for \'Half\'',
                                     "Could not run 'aten::foo' with arguments from the 'CPU' backend."])
def test_a_dtype_without_a_peer_kernel_is_skipped(monkeypatch, message):
    def no_kernel(p, device):
        def run():
            raise RuntimeError(message)
        return run
    monkeypatch.setitem(PEERS["softmax"]["cpu"], "numpy", ("numpy", no_kernel))
    out = measure_peers("softmax", {"rows": 4, "cols": 4, "dtype": "float16"}, "cpu", 1e-3, fast_settings())
    assert out["numpy"]["status"] == "skipped"
    assert out["numpy"]["reason"].startswith("unsupported_dtype: numpy has no CPU kernel for dtype=float16 (")


def test_other_peer_errors_are_recorded_by_the_timing(monkeypatch):
    def broken(p, device):
        def run():
            raise ValueError("boom")
        return run
    monkeypatch.setitem(PEERS["softmax"]["cpu"], "numpy", ("numpy", broken))
    out = measure_peers("softmax", {"rows": 4, "cols": 4}, "cpu", 1e-3, fast_settings())
    assert out["numpy"]["status"] == "skipped" and out["numpy"]["reason"].startswith("error: ValueError: boom")


def test_a_builder_skip_names_its_reason(monkeypatch):
    def skip(p, device):
        raise PeerSkip("unsupported_dtype", "no such thing")
    monkeypatch.setitem(PEERS["softmax"]["cpu"], "numpy", ("numpy", skip))
    out = measure_peers("softmax", {"rows": 4, "cols": 4}, "cpu", 1e-3, fast_settings())
    assert out["numpy"]["reason"] == "unsupported_dtype: no such thing"
