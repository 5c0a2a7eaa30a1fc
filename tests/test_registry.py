"""Registry-wide checks that need no edit when a family is added: every (op, device,
dtype) has exactly one default version, and every version of every case family that
declares `test_params` passes its correctness check there, on every dtype it lists."""
from __future__ import annotations

from collections import Counter

import pytest

import benchsuite as bs
from benchsuite import _core

from conftest import CUDA

FAMILIES = _core.case_families()
OP_NAMES = {v["op"] for v in _core.op_versions()}


def test_each_op_device_and_dtype_has_exactly_one_default():
    defaults: Counter = Counter()
    supported = set()
    for v in _core.op_versions():
        for dtype in v["dtypes"]:
            supported.add((v["op"], v["device"], dtype))
        for dtype in v["default_for"]:
            assert dtype in v["dtypes"], (v["op"], v["version"], dtype)
            defaults[(v["op"], v["device"], dtype)] += 1
    assert {key: n for key, n in defaults.items() if n != 1} == {}
    assert sorted(supported - set(defaults)) == []


def test_versions_and_families_are_unique():
    keys = [(v["op"], v["device"], v["version"]) for v in _core.op_versions()]
    assert [k for k, n in Counter(keys).items() if n > 1] == []
    names = [f["name"] for f in FAMILIES]
    assert [n for n, c in Counter(names).items() if c > 1] == []


def test_the_default_is_what_an_op_runs_when_no_version_is_named():
    for v in _core.op_versions():
        if v["device"] != "cpu" or v["op"] not in {f["name"] for f in FAMILIES}:
            continue
        for dtype in v["default_for"]:
            family = next(f for f in FAMILIES if f["name"] == v["op"])
            if not family["test_params"] or "dtype" not in {p["name"] for p in family["params"]}:
                continue
            r = bs.measure(v["op"], device="cpu", dtype=dtype, settings=_one_shot(), **family["test_params"])
            assert r.implementation == v["version"], (v["op"], dtype, r.implementation)


def _one_shot() -> bs.HarnessSettings:
    return bs.HarnessSettings(warmup=0, min_samples=1, max_samples=2, min_time=0.0, max_noise=None, timeout=10.0,
                              min_sample_time=1e-5)


def _checked_versions() -> list:
    out = []
    for family in FAMILIES:
        if not family["test_params"]:
            continue
        has_dtype = "dtype" in {p["name"] for p in family["params"]}
        for device in family["devices"]:
            for v in family["versions"].get(device, []):
                dtypes = v["dtypes"] if has_dtype else [None]
                for dtype in dtypes:
                    if dtype is not None and not dtype.startswith(("float", "bfloat")):
                        continue
                    out.append(pytest.param(family["name"], device, v["version"], dtype,
                                            id=f"{family['name']}-{device}-{v['version']}-{dtype}"))
    return out


@pytest.mark.parametrize("case,device,version,dtype", _checked_versions())
def test_every_version_passes_its_check_at_the_family_test_params(case, device, version, dtype):
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    family = next(f for f in FAMILIES if f["name"] == case)
    params = dict(family["test_params"])
    if dtype is not None:
        params["dtype"] = dtype
    r = bs.measure(case, device=device, impl=version, settings=_one_shot(), **params)
    assert r.status in ("ok", "invalid"), (r.status, r.reason, r.error)
    correctness = r.metrics.get("correctness")
    if case in OP_NAMES:  # op cases always check against their reference
        assert correctness is not None and correctness["passed"], correctness
    elif correctness is not None:
        assert correctness["passed"], correctness
