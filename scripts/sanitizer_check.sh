#!/usr/bin/env bash
# Build benchsuite._core with AddressSanitizer + UndefinedBehaviorSanitizer (CMake option
# BENCHSUITE_SANITIZE, CPU-only) in its own venv and run the tests that reach native code
# under it. Exits non-zero on any sanitizer report (or any test failure).
#
#   bash scripts/sanitizer_check.sh [PYTEST_ARGS ...]     (extra args go to pytest)
#
# Environment: SANITIZE_BUILD_DIR  keep the CMake build here (incremental reruns; default: a
#                                  fresh temporary one, as in CI)
#              SANITIZE_ENV        the venv to create/reuse (default: a temporary one)
#              CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT  # the default venv, the logs (printed below on failure)
env_dir="${SANITIZE_ENV:-$work/env}"
logs="$work/reports"
mkdir -p "$logs"
py="$env_dir/bin/python"

# ---- build ------------------------------------------------------------------------------
start=$SECONDS
[ -x "$py" ] || python3 -m venv --system-site-packages "$env_dir"
# The venv sees the system's packages (numpy, pytest, ...). Where benchsuite is installed
# there in editable mode (pip install -e, a developer's setup), scikit-build-core's import
# hook would hand every import of benchsuite._core to that unsanitized build, ahead of this
# venv's; this venv-only sitecustomize (run by every process of this venv, subprocesses too)
# takes such hooks for benchsuite out again.
site_dir="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cat > "$site_dir/sitecustomize.py" <<'EOF'
import sys
def _editable_benchsuite(finder):
    known = list(getattr(finder, "known_source_files", {})) + list(getattr(finder, "known_wheel_files", {}))
    return any(name == "benchsuite" or name.startswith("benchsuite.") for name in known)
sys.meta_path[:] = [f for f in sys.meta_path if not _editable_benchsuite(f)]
# torch (the CPU peers, some parity tests) stays out: its bundled libraries (its own OpenMP
# runtime among them) are not instrumented and would share the process with ASan's. Its
# import fails (the tests that need it skip; peers are "skipped: cannot be imported"), and
# "torch" stays out of sys.modules, where other packages (SciPy) look for it.
import importlib.abc, importlib.machinery
class _TorchKeptOut(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name.split(".")[0] == "torch" else None
    def create_module(self, spec):
        raise ModuleNotFoundError(f"{spec.name} is kept out of the sanitizer run (its libraries are not instrumented)")
    def exec_module(self, module):
        pass
sys.meta_path.insert(0, _TorchKeptOut())
EOF
build_args=()
if [ -n "${SANITIZE_BUILD_DIR:-}" ]; then
  build_args+=(--config-settings="build-dir=$SANITIZE_BUILD_DIR")
fi
# CUDA off: device code cannot be instrumented (CMake rejects SANITIZE with CUDA=ON).
# SKBUILD_INSTALL_STRIP=false: reports need the installed module's symbols and line tables.
BENCHSUITE_SANITIZE=ON BENCHSUITE_ENABLE_CUDA=OFF BENCHSUITE_CUDA_EMULATOR=OFF SKBUILD_INSTALL_STRIP=false \
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  "$py" -m pip install --disable-pip-version-check --no-deps --quiet "${build_args[@]}" .
echo "sanitizer_check: built in $((SECONDS - start)) s"

# The module this venv imports must really be the sanitized one, or the run below proves
# nothing (found without importing it: loading it before libasan would abort).
"$py" - <<'EOF'
import importlib.util, pathlib, subprocess, sys
spec = importlib.util.find_spec("benchsuite")
assert spec and spec.submodule_search_locations, "benchsuite is not installed in this venv"
cores = [p for d in spec.submodule_search_locations for p in pathlib.Path(d).glob("_core*.so")]
deps = subprocess.run(["ldd", *map(str, cores)], capture_output=True, text=True).stdout if cores else ""
if len(cores) != 1 or "libasan" not in deps:
    sys.exit(f"sanitizer_check: the benchsuite._core this venv imports ({cores}) is not the sanitized build:\n{deps}")
print(f"sanitizer_check: testing {cores[0]}")
EOF

# ---- runtime settings -------------------------------------------------------------------
# python3 itself is not instrumented, so ASan's runtime must be loaded first (LD_PRELOAD),
# before libc's malloc is bound; GCC's UBSan runtime is a separate library, preloaded too.
# libstdc++ as well: python3 does not link it, and ASan binds its __cxa_throw interceptor
# at start-up - without libstdc++ loaded by then, the first C++ exception the module throws
# dies in "CHECK failed: ... real___cxa_throw != 0".
preload=""
for lib in libasan.so libubsan.so libstdc++.so; do
  path="$(${CXX:-g++} -print-file-name="$lib")"
  if [ "$path" = "$lib" ] || [ ! -e "$path" ]; then  # not found: the compiler echoes the name back
    [ "$lib" = libasan.so ] && { echo "sanitizer_check: $lib not found for ${CXX:-g++}" >&2; exit 2; }
    continue
  fi
  preload="${preload:+$preload:}$(readlink -f "$path")"
done
# detect_leaks=0: CPython keeps interned objects, module state and arenas alive until exit
#   by design, so LeakSanitizer reports thousands of "leaks" that are not ours.
# abort_on_error / halt_on_error: the first report kills the process (non-zero exit).
# allocator_may_return_null=1: a host allocation too large to serve must return NULL as
#   without ASan (csrc/core/allocator.cpp turns that into the "oom" error the tests
#   expect), not abort with "requested allocation size exceeds maximum supported size".
# log_path: ASan reports go to files, so one raised in a child process (the CLI and
#   huge-size tests run some) is seen below even where the test swallowed its stderr.
#   GCC's separate UBSan runtime ignores log_path: its reports go to stderr, are searched
#   for in pytest's output, and (with -fno-sanitize-recover) abort the process, which
#   fails the test that ran it.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"

# ---- tests ------------------------------------------------------------------------------
# The tests that reach native code: ops (every CPU version against its reference), tensors
# and views, the harness and statistics, the energy window and RAPL reader, the memory
# counters, interop, the model layer (graph, executor, models), impossible sizes and Ctrl-C (these run `benchsuite` in child processes,
# which inherit the settings above; their reports land in $logs too), and the fuzz tests.
# Left out: `slow` tests (time); the pure-Python layers (results, reports, config, CLI,
# history); test_fuzz_loaders.py (hypothesis over the JSON/YAML loaders: no native code);
# test_build.py (it expects the CUDA kernels whenever nvcc is on PATH, and a sanitizer
# build never has them). CUDA tests skip: this build has no CUDA.
shopt -s nullglob
tests=(tests/test_ops*.py tests/test_tensor.py tests/test_harness.py tests/test_stats.py
       tests/test_energy.py tests/test_memory_profiler.py tests/test_interop.py
       tests/test_interrupt_and_sizes.py tests/test_fuzz*.py tests/test_graph.py tests/test_models.py
       tests/test_autograd.py tests/test_layers.py)
shopt -u nullglob
for i in "${!tests[@]}"; do
  [ "${tests[$i]}" = tests/test_fuzz_loaders.py ] && unset 'tests[i]'
done

# --capture=sys: pytest captures Python's sys.stderr only, so a report the native code
# writes to fd 2 reaches the log even when it aborts the process mid-test (a captured fd
# would die with it); faulthandler then names the test that was running.
start=$SECONDS
set +e
LD_PRELOAD="$preload${LD_PRELOAD:+:$LD_PRELOAD}" \
  "$py" -m pytest "${tests[@]}" -m "not slow" -p no:cacheprovider -q --capture=sys "$@" 2>&1 | tee "$work/pytest.log"
rc=${PIPESTATUS[0]}
set -e
echo "sanitizer_check: tests ran in $((SECONDS - start)) s (pytest exit $rc)"

found=0
reports=("$logs"/*)
if [ -e "${reports[0]}" ]; then
  echo "sanitizer_check: ${#reports[@]} ASan report file(s):" >&2
  for f in "${reports[@]}"; do echo "==== $f" >&2; cat "$f" >&2; done
  found=1
fi
pattern='[^ ]+:[0-9]+:[0-9]+: runtime error: |ERROR: AddressSanitizer|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)'
if grep -Eq "$pattern" "$work/pytest.log"; then
  echo "sanitizer_check: sanitizer reports in the test output:" >&2
  grep -E -A12 "$pattern" "$work/pytest.log" >&2
  found=1
fi
[ "$found" = 0 ] || exit 1
if [ "$rc" -ne 0 ]; then
  echo "sanitizer_check: pytest failed (exit $rc) under ASan+UBSan" >&2
  exit "$rc"
fi
echo "sanitizer_check: no sanitizer reports"
