"""Our own CUDA matmul versions (v1: tiled fp32 SIMT; v2: WMMA tensor cores for fp16 /
bf16) against NumPy float64 on awkward shapes, batches and a shared weight; and the
registry order that keeps the vendor cuBLAS version the CUDA default; the vendor CBLAS
(OpenBLAS / BLIS) version on the CPU where the machine has one; the CPU's 16-bit v3 (both of
its bf16 paths) and the measured bf16 / int8 peaks."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import benchsuite as bs
from benchsuite import _core

from op_helpers import assert_close_to_exact, make_input, on_device, relative_error, to_host

LOW_TOL = {"float16": 2e-3, "bfloat16": 1e-2}

# (a_shape, b_shape): sizes below, at and across the 64x64 block tile and the BK step,
# degenerate 1-sized dimensions, batches and a weight shared by every batch entry.
SHAPES = [
    ((1, 1), (1, 1)),
    ((1, 37), (37, 100)),
    ((100, 37), (37, 1)),
    ((37, 1), (1, 100)),
    ((65, 65), (65, 65)),
    ((127, 131), (131, 129)),
    ((256, 256), (256, 256)),
    ((3, 33, 17), (3, 17, 9)),
    ((4, 33, 17), (17, 9)),
]
SHAPE_IDS = ["x".join(map(str, a)) + "@" + "x".join(map(str, b)) for a, b in SHAPES]


def bf16_round(x: np.ndarray) -> np.ndarray:
    bits = x.astype(np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).view(np.float32)


def rounded(x: np.ndarray, dtype: str) -> np.ndarray:
    """x rounded to dtype (nearest even), as float64: the inputs the kernel really sees."""
    return (x.astype(np.float16) if dtype == "float16" else bf16_round(x)).astype(np.float64)


def cuda_matmul(a: np.ndarray, b: np.ndarray, version: str, dtype: str = "float32") -> np.ndarray:
    """bs.ops.matmul on CUDA with inputs cast to dtype there; the result as float32 NumPy."""
    da, db = on_device(a, "cuda"), on_device(b, "cuda")  # skips without CUDA
    if dtype != "float32":
        da, db = bs.ops.cast(da, dtype), bs.ops.cast(db, dtype)
    c = bs.ops.matmul(da, db, impl=version)
    assert c.dtype == dtype  # output in the input dtype
    return to_host(bs.ops.cast(c, "float32") if dtype != "float32" else c)


@pytest.mark.parametrize("a_shape,b_shape", SHAPES, ids=SHAPE_IDS)
def test_v1_float32(rng, a_shape, b_shape):
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    c = cuda_matmul(a, b, "v1")
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert c.shape == ref.shape
    assert relative_error(c, ref) < 1e-5


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("a_shape,b_shape", SHAPES, ids=SHAPE_IDS)
def test_v2_low_precision(rng, dtype, a_shape, b_shape):
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    c = cuda_matmul(a, b, "v2", dtype)
    ref = np.matmul(rounded(a, dtype), rounded(b, dtype))
    assert c.shape == ref.shape
    assert relative_error(c, ref) < LOW_TOL[dtype]


@pytest.mark.parametrize("version,dtype", [("v1", "float32"), ("v2", "float16"), ("v2", "bfloat16")])
def test_batch_beyond_the_grid_z_limit(rng, version, dtype):
    # 70000 batch entries > 65535 blocks in grid z: the kernels loop over the rest.
    a = rng.standard_normal((70000, 2, 3)).astype(np.float32)
    b = rng.standard_normal((70000, 3, 2)).astype(np.float32)
    c = cuda_matmul(a, b, version, dtype)
    if dtype == "float32":
        ref, tol = np.matmul(a.astype(np.float64), b.astype(np.float64)), 1e-5
    else:
        ref, tol = np.matmul(rounded(a, dtype), rounded(b, dtype)), LOW_TOL[dtype]
    assert relative_error(c, ref) < tol
    assert relative_error(c[-1000:], ref[-1000:]) < tol  # the entries past the first grid


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_v2_matches_cublas(rng, dtype):
    a = rng.standard_normal((2, 70, 150)).astype(np.float32)
    b = rng.standard_normal((150, 90)).astype(np.float32)
    ours, vendor = cuda_matmul(a, b, "v2", dtype), cuda_matmul(a, b, "cublas", dtype)
    ref = np.matmul(rounded(a, dtype), rounded(b, dtype))
    assert relative_error(ours, ref) < LOW_TOL[dtype] and relative_error(vendor, ref) < LOW_TOL[dtype]


def test_v1_rejects_low_precision_and_v2_float32(rng):
    a = on_device(rng.standard_normal((4, 4)).astype(np.float32), "cuda")
    with pytest.raises(bs.UnsupportedError, match="dtype=float32"):
        bs.ops.matmul(a, a, impl="v2")
    h = bs.ops.cast(a, "float16")
    with pytest.raises(bs.UnsupportedError, match="dtype=float16"):
        bs.ops.matmul(h, h, impl="v1")


def test_registry_keeps_cublas_the_cuda_default():
    cuda = bs.ops.versions("matmul", "cuda")
    if not cuda:
        pytest.skip("no_cuda: built without CUDA")
    by_name = {v["version"]: v for v in cuda}
    assert set(by_name["v1"]["dtypes"]) == {"float32"}
    assert set(by_name["v2"]["dtypes"]) == {"float16", "bfloat16"}
    assert not by_name["v1"]["reference"] and not by_name["v2"]["reference"]
    for dtype in ("float32", "float16", "bfloat16"):
        default = [v["version"] for v in cuda if dtype in v["dtypes"]][-1]  # the last registered one
        assert default == "cublas", dtype


def test_default_cuda_version_is_cublas(rng):
    # Same inputs through the default and through impl="cublas": bitwise the same result.
    a = rng.standard_normal((3, 45, 70)).astype(np.float32)
    b = rng.standard_normal((70, 33)).astype(np.float32)
    for dtype in ("float32", "float16", "bfloat16"):
        da, db = on_device(a, "cuda"), on_device(b, "cuda")
        if dtype != "float32":
            da, db = bs.ops.cast(da, dtype), bs.ops.cast(db, dtype)
        got = to_host(bs.ops.cast(bs.ops.matmul(da, db), "float32"))
        want = to_host(bs.ops.cast(bs.ops.matmul(da, db, impl="cublas"), "float32"))
        np.testing.assert_array_equal(got, want)


# ---- the vendor CBLAS on the CPU (ops/matmul/vendor_blas.h) ------------------------------------
def _vendor() -> str:
    blas = bs._core.cpu_info()["blas"]
    if blas["name"] is None:
        pytest.skip(f"no_vendor_blas: {blas['reason']}")
    return blas["name"]


@pytest.mark.parametrize("a_shape,b_shape", SHAPES + [((5, 0), (0, 7)), ((0, 4), (4, 3))],
                         ids=SHAPE_IDS + ["k=0", "m=0"])
def test_vendor_blas_version_matches_float64(rng, a_shape, b_shape):
    """Shapes, batches, a shared weight, k = 0 (zeros) and m = 0, as every version."""
    version = _vendor()
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    c = bs.ops.matmul(a, b, impl=version)
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert c.shape == ref.shape
    if ref.size:
        assert relative_error(c, ref) < 1e-5 if np.any(ref) else not np.any(c)


def test_vendor_blas_runs_a_model_and_says_what_it_is(rng):
    version = _vendor()
    v = next(x for x in bs.ops.versions("matmul", "cpu") if x["version"] == version)
    assert v["description"].startswith("vendor: cblas_sgemm of ") and not v["reference"]
    m = bs.models.Model("gpt2", seq_len=5, seed=1, num_hidden_layers=1, hidden_size=16, num_attention_heads=2,
                        vocab_size=31, max_position_embeddings=8)
    vendor = bs.models.Model("gpt2", seq_len=5, seed=1, num_hidden_layers=1, hidden_size=16, num_attention_heads=2,
                             vocab_size=31, max_position_embeddings=8, versions={"matmul": version})
    ids = rng.integers(0, 31, (1, 5))
    np.testing.assert_allclose(vendor(ids)["logits"], m(ids)["logits"], rtol=1e-4, atol=1e-5)


def test_no_vendor_blas_is_reported_not_registered():
    code = ("import benchsuite as bs, json; b = bs._core.cpu_info()['blas'];"
            "print(json.dumps([b['name'], b['reason'], [v['version'] for v in bs.ops.versions('matmul', 'cpu')]]))")
    for value, says in (("none", "BENCHSUITE_BLAS_LIBRARY=none"), ("/nonexistent/libcblas.so", "/nonexistent")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "BENCHSUITE_BLAS_LIBRARY": value}).stdout
        name, reason, names = json.loads(out)
        assert name is None and says in reason and names == ["v1", "v2", "v3"]


@pytest.mark.parametrize("m", range(1, 10))
@pytest.mark.parametrize("n,k", [(1, 5), (31, 17), (32, 1), (33, 64), (100, 300)])
def test_cpu_v2_few_rows(rng, m, n, k):
    """Up to 8 rows take the streaming path (an m x 32 tile in registers, a column at a time
    past the last full block), 9 the packed one: every row count and ragged column count."""
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = bs.ops.matmul(a, b, impl="v2")
    assert relative_error(c, a.astype(np.float64) @ b) < 1e-5


# ---- the fp32 GEMM's instruction sets (chosen once per process: each in a child process) ----

_ISA_CHECK = """
import json, numpy as np, benchsuite as bs
from benchsuite import _core
rng = np.random.default_rng(7)
errors = []
# edges of every ISA's tile (4x8, 6x16, 8x32) and blocking (kc 256..512, mc 96), decode rows
for m, n, k in [(1, 1, 1), (2, 3, 5), (7, 33, 17), (9, 65, 31), (13, 100, 300), (97, 129, 257),
                (200, 300, 129), (511, 97, 1025), (8, 4099, 3), (1, 1027, 7), (3, 6, 1000),
                (3, 4300, 1001), (1, 4097, 1025), (1, 700, 999)]:  # B past 1 or 16 MiB: rows split over threads
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    ref = a.astype(np.float64) @ b
    errors.append(float(np.linalg.norm(bs.ops.matmul(a, b, impl="v2") - ref) / np.linalg.norm(ref)))
print(json.dumps({"isa": _core.cpu_info()["gemm_isa"], "worst": max(errors)}))
"""


def _run_isa(isa: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _ISA_CHECK], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "BENCHSUITE_CPU_ISA": isa})


def test_every_gemm_isa_this_cpu_has_matches_float64():
    """Each build of the fp32 GEMM the CPU can run (so a wheel built here runs on an AVX2-only or
    older x86-64 too) against NumPy float64 at shapes across its tile and blocking edges."""
    info = _core.cpu_info()["gemm_isa"]
    assert info["name"] == info["available"][-1] or os.environ.get("BENCHSUITE_CPU_ISA")
    assert info["available"][0] == "generic" and info["kc"] > 0 and info["mc"] > 0 and info["nc"] > 0
    for isa in info["available"]:
        out = _run_isa(isa)
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout.strip().splitlines()[-1])
        assert got["isa"]["name"] == isa
        assert got["worst"] < 1e-5, (isa, got)


def test_an_isa_that_is_unknown_or_missing_is_named():
    out = _run_isa("avx9")
    assert out.returncode != 0
    assert "BENCHSUITE_CPU_ISA='avx9' is not an instruction set (expected one of generic, avx2, avx512)" in out.stderr
    missing = [i for i in ("avx2", "avx512") if i not in _core.cpu_info()["gemm_isa"]["available"]]
    if missing:
        out = _run_isa(missing[0])
        assert out.returncode != 0 and f"BENCHSUITE_CPU_ISA={missing[0]}: this CPU does not have it" in out.stderr


# ---- CPU v3: 16-bit GEMM (bf16 pairs through vdpbf16ps where the CPU has AVX512_BF16, fp16 and ----
# ---- bf16 without it widened to fp32 while packing) -------------------------------------------
V3_DIMS = [1, 2, 7, 17, 31, 33, 64, 65, 127]
# Every awkward size as m, as n and as k (odd k: a half-empty last pair; 8x32 / 6x16 tiles,
# 96 / 192-row blocks; up to 8 rows stream B in column blocks of 32 to 128 and a tail), then one dimension past the depth blocks (fp32 partial sums kept
# between blocks: 1024 deep for vdpbf16ps, 256 when widened; odd 4099), the 3072-column
# panel and many row blocks.
V3_SHAPES = ([(d, 33, 65) for d in V3_DIMS] + [(17, d, 31) for d in V3_DIMS] + [(31, 65, d) for d in V3_DIMS]
             + [(4099, 33, 17), (9, 4099, 65), (33, 17, 4099), (65, 31, 4099), (1, 300, 65), (4, 4099, 17),
                (8, 100, 1100)])
V3_BATCHED = [((3, 33, 17), (3, 17, 9)), ((2, 65, 300), (2, 300, 33)), ((4, 33, 300), (300, 65)),
              ((2, 40, 1100), (1100, 33)), ((3, 1, 7), (7, 2))]


def v3_matmul(a: np.ndarray, b: np.ndarray, dtype: str, impl: str = "v3"):
    """bs.ops.matmul on the CPU in dtype; the result and the exact product of the inputs it saw."""
    c = bs.ops.matmul(make_input(a, dtype, "cpu"), make_input(b, dtype, "cpu"), impl=impl)
    assert str(c.dtype) == dtype  # output in the input dtype
    return c, np.matmul(rounded(a, dtype), rounded(b, dtype))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("m,n,k", V3_SHAPES, ids=["x".join(map(str, s)) for s in V3_SHAPES])
def test_cpu_v3_matches_float64(rng, dtype, m, n, k):
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c, exact = v3_matmul(a, b, dtype)
    assert_close_to_exact(c, exact, dtype, f"v3 {dtype} {m}x{n}x{k}")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("a_shape,b_shape", V3_BATCHED,
                         ids=["x".join(map(str, a)) + "@" + "x".join(map(str, b)) for a, b in V3_BATCHED])
def test_cpu_v3_batched_and_shared_weight(rng, dtype, a_shape, b_shape):
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    c, exact = v3_matmul(a, b, dtype)
    assert_close_to_exact(c, exact, dtype, f"v3 {dtype} {a_shape} @ {b_shape}")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cpu_v3_is_the_16bit_default_and_v1_the_reference(rng, dtype):
    by_name = {v["version"]: v for v in bs.ops.versions("matmul", "cpu")}
    assert set(by_name["v3"]["dtypes"]) == {"float16", "bfloat16"} and not by_name["v3"]["reference"]
    assert by_name["v1"]["reference"]
    a = rng.standard_normal((70, 300)).astype(np.float32)
    b = rng.standard_normal((300, 40)).astype(np.float32)
    default, _ = v3_matmul(a, b, dtype, impl="")
    v3, exact = v3_matmul(a, b, dtype)
    np.testing.assert_array_equal(bs.ops.cast(default, "float32").numpy() if dtype == "bfloat16" else default,
                                  bs.ops.cast(v3, "float32").numpy() if dtype == "bfloat16" else v3)
    reference, _ = v3_matmul(a, b, dtype, impl="v1")
    assert_close_to_exact(reference, exact, dtype, "v1")
    with pytest.raises(bs.UnsupportedError, match="dtype=float32"):
        bs.ops.matmul(a, b, impl="v3")


_V3_IN_SUBPROCESS = """
import json, numpy as np, benchsuite as bs
from benchsuite.harness.measure import peaks
rng = np.random.default_rng(7)
out = {"isa": bs._core.cpu_info()["isa_paths"], "peaks": peaks("cpu")["flop_per_s"], "results": {}}
for m, n, k in [(1, 1, 1), (37, 65, 31), (130, 70, 513), (3, 4099, 9)]:
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = bs.ops.matmul(bs.ops.cast(a, "bfloat16"), bs.ops.cast(b, "bfloat16"), impl="v3")
    out["results"][f"{m}x{n}x{k}"] = [a.tolist(), b.tolist(), bs.ops.cast(c, "float32").numpy().tolist()]
print(json.dumps(out))
"""


def _v3_run(disable: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "BENCHSUITE_DISABLE_ISA"}
    if disable is not None:
        env["BENCHSUITE_DISABLE_ISA"] = disable
    done = subprocess.run([sys.executable, "-c", _V3_IN_SUBPROCESS], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout)


def test_cpu_v3_bf16_paths_both_match_float64():
    """With AVX512_BF16 (vdpbf16ps) and without it (BENCHSUITE_DISABLE_ISA: bf16 widened to
    fp32 while packing, as fp16): cpu_info says which path runs, both meet the bf16 policy,
    and the bf16 peak is None where the instruction is off."""
    native = bs._core.cpu_info()["isa_paths"]["avx512bf16"]
    runs = {"widened": _v3_run("avx512bf16,avx512vnni")}
    assert runs["widened"]["isa"] == {"avx512bf16": False, "avx512vnni": False}
    assert runs["widened"]["peaks"]["bfloat16"] is None and runs["widened"]["peaks"]["int8"] is None
    if native:
        runs["vdpbf16ps"] = _v3_run(None)
        assert runs["vdpbf16ps"]["isa"]["avx512bf16"] is True
    for path, run in runs.items():
        for shape, (a, b, c) in run["results"].items():
            exact = np.matmul(rounded(np.array(a, dtype=np.float32), "bfloat16"),
                              rounded(np.array(b, dtype=np.float32), "bfloat16"))
            assert_close_to_exact(np.array(c), exact, "bfloat16", f"{path} {shape}")


def test_cpu_bf16_matmul_records_report_their_fraction_of_the_bf16_peak():
    from benchsuite.harness.measure import peaks
    flops = peaks("cpu")["flop_per_s"]
    if flops["bfloat16"] is None:
        pytest.skip("no AVX512_BF16: no bf16 peak")
    r = bs.measure("matmul", m=128, n=128, k=128, dtype="bfloat16", device="cpu", impl="v3",
                   settings=bs.HarnessSettings.smoke_settings())
    frac = r.metrics["fraction_of_peak"]
    assert frac["peak_flop_per_s"] == flops["bfloat16"]
    assert frac["compute"] == pytest.approx(r.metrics["throughput"]["flop_per_s"] / flops["bfloat16"])
