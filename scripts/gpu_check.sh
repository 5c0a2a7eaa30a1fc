#!/usr/bin/env bash
# On a CUDA machine: build benchsuite for this GPU and check it, in stages that each fit a
# short remote call (the device tool allows 10 minutes a command), writing logs under OUT_DIR.
#
#   bash scripts/gpu_check.sh OUT_DIR [STAGE ...]     (default: every stage, in this order)
#
#   build     pip install for this GPU's architecture (offline wheels from build/device-wheels
#             are installed first when pyyaml / jsonschema / rich are missing)
#   tests     test_hardware + every op test (CUDA versions run) + tensor/DLPack interop + the
#             graph and model tests (attention_kv on CUDA, BERT/GPT-2/LLaMA on CUDA against the CPU)
#             + the layers on CUDA (conv, norms, dropout, MoE, Mamba) + the CUDA versions' fuzzers
#   memcheck  compute-sanitizer memcheck over the CUDA op tests
#   race      compute-sanitizer racecheck + synccheck over the shared-memory attention kernels
#   energy    energy/clock tests and the large GEMM's counter-vs-sampled-power record
#   perf      `pytest -m performance` (quick profile) through the plugin, CUDA cases
#   run       `benchsuite run --profile ${PROFILE:-default} --device cuda`, then the table
#   report    `benchsuite report` over run.json with the targets table (report.md/.html)
#
# Needs python3 with numpy, pybind11, scikit-build-core, cmake, ninja, pytest, pytest-benchmark
# (torch optional: the interop tests and the PyTorch peers). Prepare the wheels on a machine
# with a network with: bash scripts/gpu_check.sh --fetch-wheels  (then carry build/device-wheels)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
if [ "${1:-}" = "--fetch-wheels" ]; then
  python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    -d build/device-wheels pyyaml jsonschema rich
  du -sh build/device-wheels
  exit 0
fi
out=${1:?usage: bash scripts/gpu_check.sh OUT_DIR [STAGE ...] | --fetch-wheels}
shift
stages=${*:-build tests memcheck race energy perf run report}
mkdir -p "$out"
out=$(cd "$out" && pwd)
status=0
has() { [[ " $stages " == *" $1 "* ]]; }
py() { (cd "$out" && python3 "$@"); }   # run from outside the checkout: test the installed package

if has build; then
  if ! python3 -c "import yaml, jsonschema, rich" 2>/dev/null && [ -d build/device-wheels ]; then
    echo "== offline wheels"
    python3 -m pip install -q --no-index --find-links build/device-wheels pyyaml jsonschema rich || status=1
  fi
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')
  echo "== build for sm_${arch:-90}" | tee "$out/build.log"
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=${arch:-90}" \
    python3 -m pip install --no-build-isolation --no-deps . >>"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
  py -m benchsuite info | tee "$out/info.txt"
  py -m benchsuite info --json > "$out/environment.json"
fi

if has tests; then
  echo "== hardware and op tests"
  py -m pytest "$repo/tests/test_hardware.py" "$repo"/tests/test_ops*.py "$repo/tests/test_tensor.py" \
    "$repo/tests/test_graph.py" "$repo/tests/test_models.py" "$repo/tests/test_layers.py" \
    "$repo/tests/test_fuzz_ops.py::test_op_matches_numpy_or_raises_a_named_error" \
    -p no:cacheprovider -q -rs --junitxml="$out/hardware-tests.xml" 2>&1 | tee "$out/hardware-tests.log" | tail -15
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi

sanitize() {  # tool, log name, pytest args...
  local tool=$1 name=$2
  shift 2
  if ! command -v compute-sanitizer >/dev/null 2>&1; then echo "compute-sanitizer not found: $tool skipped"; return; fi
  echo "== compute-sanitizer $tool"
  (cd "$out" && compute-sanitizer --tool "$tool" --error-exitcode 1 --log-file "$name.log" \
    python3 -m pytest "$@" -p no:cacheprovider -q >"$name-pytest.log" 2>&1) \
    && echo "$tool clean" || { echo "$tool FAILED"; tail -20 "$out/$name.log"; status=1; }
  tail -3 "$out/$name-pytest.log"
}
has memcheck && sanitize memcheck memcheck "$repo"/tests/test_ops*.py "$repo/tests/test_hardware.py" \
  "$repo/tests/test_layers.py" "$repo/tests/test_graph.py" -k "cuda or spin or graph"
if has race; then
  sanitize racecheck racecheck "$repo/tests/test_ops_attention.py" -k "cuda and (v2 or v3)"
  sanitize synccheck synccheck "$repo/tests/test_ops_attention.py" -k "cuda and (v2 or v3)"
fi

if has energy; then
  echo "== energy: the large GEMM's counter energy vs. integrated sampled power, clocks and throttling"
  py -m pytest "$repo/tests/test_energy.py" "$repo/tests/test_memory_profiler.py" -p no:cacheprovider -q -rs \
    2>&1 | tee "$out/energy-tests.log" | tail -5
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  py - <<'PY' 2>&1 | tee "$out/energy.txt"
import json
import benchsuite as bs
s = bs.HarnessSettings(energy=True, energy_min_window=3.0, energy_warmup=1.5)
r = bs.measure("matmul", device="cuda", m=8192, n=8192, k=8192, dtype="float16", settings=s)
e, c = r.metrics.get("energy", {}), r.metrics.get("clocks", {})
print(r, "energy:", json.dumps(e, indent=1), "clocks:", json.dumps(c, indent=1), sep="\n")
PY
fi

if has perf; then
  echo "== pytest -m performance (profile quick, cuda)"
  py -m pytest "$repo/benchmarks" -m performance --bs-profile quick --bs-device cuda --bs-no-history \
    --bs-json "$out/performance.json" -p no:cacheprovider -q 2>&1 | tail -5
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi

if has run; then
  echo "== benchsuite run (profile ${PROFILE:-default}, cuda)"
  py -m benchsuite run --profile "${PROFILE:-default}" --device cuda --json "$out/run.json" --quiet --no-history \
    || status=1
  py - "$out/run.json" <<'PY' | tee "$out/run-table.txt"
import sys
import benchsuite as bs
run = bs.load_results(sys.argv[1])
print(f"{'case':64s} {'status':8s} {'median us':>10s} {'GB/s':>8s} {'TFLOP/s':>8s} {'peak':>6s} {'vs torch':>8s}")
for b in run.benchmarks:
    m, s = b["metrics"], b["stats"]
    tp, fr = m["throughput"], m["fraction_of_peak"]
    frac = fr["compute"] if fr["compute"] is not None else fr["bandwidth"]
    fmt = lambda v, f: format(v, f) if v is not None else "-"
    torch_peer = m.get("peers", {}).get("torch", {}).get("speedup")
    print(f"{b['name'][:64]:64s} {b['status']:8s} {fmt(s and s['median'] * 1e6, '10.2f'):>10s} "
          f"{fmt(tp['gb_per_s'], '8.1f'):>8s} {fmt(tp['tflop_per_s'], '8.2f'):>8s} {fmt(frac, '6.1%'):>6s} "
          f"{fmt(torch_peer, '8.2f'):>8s}")
PY
fi

if has report && [ -f "$out/run.json" ]; then
  echo "== report with the targets table"
  py -m benchsuite report "$out/run.json" --md "$out/report.md" --html "$out/report.html" --json "$out/report.json" \
    || status=1
  sed -n '/^## Targets/,/^## /p' "$out/report.md" | head -30
fi
exit $status
