"""Peers (NumPy on CPU, PyTorch on CUDA) measured beside our cases, with speedups."""
from __future__ import annotations

import importlib.util

import pytest

import benchsuite as bs
from benchsuite.peers import PEERS, measure_peers
from benchsuite.results import validate_record
from benchsuite.runner import CaseSpec, run_case

from conftest import fast_settings


def test_every_peer_family_is_a_registered_case():
    families = {c.case for c in bs.list_cases(profile="default")}
    assert set(PEERS) <= families | {"matmul"}


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


def test_missing_peer_is_a_skipped_comparison():
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    out = measure_peers("softmax", {"rows": 4, "cols": 4}, "cuda:0", 1e-3, fast_settings())
    assert out["torch"]["status"] == "skipped"
    assert out["torch"]["reason"].startswith("peer_missing")


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
