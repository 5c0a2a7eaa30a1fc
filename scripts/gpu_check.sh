#!/usr/bin/env bash
# On a CUDA machine: build benchsuite for this GPU, run the hardware tests (and the CUDA
# op tests under compute-sanitizer when it is installed), then a `performance` run and a
# CLI run of the CUDA cases, writing everything under the folder named on the command line.
#
#   bash scripts/gpu_check.sh OUT_DIR [PROFILE]
#
# Needs python3 with numpy, pybind11, scikit-build-core, cmake, ninja, pytest,
# pytest-benchmark, pyyaml, jsonschema, rich (torch optional: enables the interop tests).
set -uo pipefail
out=${1:?usage: bash scripts/gpu_check.sh OUT_DIR [PROFILE]}
profile=${2:-default}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."

arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')
export CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=${arch:-90}"
echo "== build for sm_${arch:-90}" | tee "$out/build.log"
python3 -m pip install --no-build-isolation --no-deps . >>"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
cd "$out"   # run from outside the checkout: the installed package is what gets tested
repo=$(cd - >/dev/null && pwd)

status=0
echo "== benchsuite info"
python3 -m benchsuite info | tee info.txt
python3 -m benchsuite info --json > environment.json

echo "== hardware tests"
python3 -m pytest "$repo/tests/test_hardware.py" "$repo"/tests/test_ops*.py "$repo/tests/test_tensor.py" \
  -p no:cacheprovider -q -rs -s --junitxml=hardware-tests.xml \
  2>&1 | tee hardware-tests.log || status=1

if command -v compute-sanitizer >/dev/null 2>&1; then
  echo "== compute-sanitizer memcheck on the CUDA op tests"
  compute-sanitizer --tool memcheck --error-exitcode 1 --log-file sanitizer.log \
    python3 -m pytest "$repo"/tests/test_ops*.py "$repo/tests/test_hardware.py" -k "cuda or spin or graph" \
    -p no:cacheprovider -q >sanitizer-pytest.log 2>&1 && echo "memcheck clean" || { echo "memcheck FAILED"; status=1; }
  tail -3 sanitizer.log
else
  echo "== compute-sanitizer not found: memcheck skipped"
fi

echo "== energy: the large GEMM's counter energy vs. integrated sampled power, clocks and throttling"
python3 -m pytest "$repo/tests/test_energy.py" "$repo/tests/test_memory_profiler.py" -p no:cacheprovider -q -rs \
  2>&1 | tee energy-tests.log | tail -5 || status=1
python3 - <<'PY' 2>&1 | tee energy.txt
import json
import benchsuite as bs
s = bs.HarnessSettings(energy=True, energy_min_window=3.0, energy_warmup=1.5)
r = bs.measure("matmul", device="cuda", m=8192, n=8192, k=8192, dtype="float16", settings=s)
e, c = r.metrics.get("energy", {}), r.metrics.get("clocks", {})
print(r, "energy:", json.dumps(e, indent=1), "clocks:", json.dumps(c, indent=1), sep="\n")
PY

echo "== pytest -m performance (profile $profile, cuda)"
python3 -m pytest "$repo/benchmarks" -m performance --bs-profile "$profile" --bs-device cuda \
  --bs-json "$out/performance.json" -p no:cacheprovider -q 2>&1 | tail -5 || status=1

echo "== benchsuite run (profile $profile, cuda)"
python3 -m benchsuite run --profile "$profile" --device cuda --json "$out/run.json" --quiet || status=1

python3 - "$out/run.json" <<'PY'
import sys
import benchsuite as bs
run = bs.load_results(sys.argv[1])
print(f"{'case':58s} {'status':8s} {'median us':>10s} {'GB/s':>8s} {'TFLOP/s':>8s} {'peak':>6s} {'vs torch':>8s}")
for b in run.benchmarks:
    m, s = b["metrics"], b["stats"]
    tp, fr = m["throughput"], m["fraction_of_peak"]
    frac = fr["compute"] if fr["compute"] is not None else fr["bandwidth"]
    fmt = lambda v, f: format(v, f) if v is not None else "-"
    torch_peer = m.get("peers", {}).get("torch", {}).get("speedup")
    print(f"{b['name'][:58]:58s} {b['status']:8s} {fmt(s and s['median'] * 1e6, '10.2f'):>10s} "
          f"{fmt(tp['gb_per_s'], '8.1f'):>8s} {fmt(tp['tflop_per_s'], '8.2f'):>8s} {fmt(frac, '6.1%'):>6s} "
          f"{fmt(torch_peer, '8.2f'):>8s}")
PY
exit $status
