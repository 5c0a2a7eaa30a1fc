"""The CUDA emulator's build-side tools, in any build: the source translator and the
launch-site coverage check (tools/cuda_emu/translate.py, tools/cuda_emu/launch_coverage.py)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools" / "cuda_emu"


def load(module: str, filename: str):
    """The script as a module (by path: tools/cuda_emu/ is not a package)."""
    spec = importlib.util.spec_from_file_location(module, TOOLS / filename)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    spec.loader.exec_module(loaded)
    return loaded


translate = load("cuda_emu_translate", "translate.py")
launch_coverage = load("cuda_emu_launch_coverage", "launch_coverage.py")


def test_launch_with_template_arguments_across_lines_keeps_the_line_count():
    source = ("void f() {\n"
              "  if (rows > 0)\n"
              "    softmax_kernel<T, (N > 2)>\n"
              "        <<<grid, kThreads, 0, stream>>>(x,\n"
              "                                      y);\n"
              "  done();\n"
              "}\n")
    sites: list[str] = []
    out = translate.rewrite_launches(source, "k.cu", sites)
    assert out.count("\n") == source.count("\n")
    assert ('::emu::launch("softmax_kernel<T, (N > 2)> [k.cu:4]", softmax_kernel<T, (N > 2)>, '
            '::emu::LaunchConfig(grid, kThreads, 0, stream), x,\n') in out
    assert out.splitlines()[5] == "  done();"  # later lines stay where they were
    assert sites == ["softmax_kernel<T, (N > 2)> [k.cu:4]"]


def test_launch_without_arguments_and_a_kernel_variable():
    sites: list[str] = []
    out = translate.rewrite_launches("kernel<<<1, 1>>>();\nk2<<<g, b, smem, s>>>(a);\n", "x.cu", sites)
    assert out == ('::emu::launch("kernel [x.cu:1]", kernel, ::emu::LaunchConfig(1, 1));\n'
                   '::emu::launch("k2 [x.cu:2]", k2, ::emu::LaunchConfig(g, b, smem, s), a);\n')


@pytest.mark.parametrize("bad,message", [("k<<<1, 1>>>;", "not followed by its arguments"),
                                         ("k<<<1, 1 (x);", "without >>>"),
                                         ("k<<<1, 1>>>(a;", "unbalanced parentheses")])
def test_malformed_launches_are_errors(bad, message):
    with pytest.raises(translate.TranslateError, match=message):
        translate.rewrite_launches(bad, "bad.cu", [])


def test_shared_memory_rewrites():
    dynamic = translate.rewrite_extern_shared("  extern __shared__ __align__(16) uint16_t smem[];")
    assert dynamic == "  uint16_t* smem = reinterpret_cast<uint16_t*>(::emu::dynamic_smem());"
    static = translate.rewrite_shared("__shared__ float m[kW], s[kW];  // x\n__shared__ T t[kT][kT + 1];\n")
    assert static == ("__shared__ float m[kW], s[kW]; ::emu::poison_shared(&m, sizeof(m)); "
                      "::emu::poison_shared(&s, sizeof(s));  // x\n"
                      "__shared__ T t[kT][kT + 1]; ::emu::poison_shared(&t, sizeof(t));\n")


def test_architecture_is_the_h100s():
    assert translate.rewrite_arch("#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800") == "#if 1 && 900 >= 800"


def test_translate_writes_mirrored_files_and_the_site_list(tmp_path: Path):
    root = tmp_path / "csrc"
    (root / "kernels").mkdir(parents=True)
    (root / "kernels" / "a.cu").write_text('#include "kernels/b.cuh"\nvoid go() { k<<<1, 32>>>(p); }\n')
    (root / "kernels" / "b.cuh").write_text("__device__ int f();\n")
    out = tmp_path / "out"
    assert translate.main([str(out), str(root), str(root / "kernels" / "a.cu"), str(root / "kernels" / "b.cuh")]) == 0
    a = (out / "kernels" / "a.cu.cpp").read_text()
    assert a.startswith(f'#line 1 "{root / "kernels" / "a.cu"}"\n') and "::emu::launch(" in a
    assert (out / "kernels" / "b.cuh").exists()
    assert (out / "launch_sites.txt").read_text() == "k [kernels/a.cu:2]\n"


def test_coverage_lists_sites_never_launched(tmp_path: Path, capsys: pytest.CaptureFixture):
    sites = tmp_path / "sites.txt"
    sites.write_text("a<T> [x.cu:1]\nb [x.cu:9]\nspin_kernel [s.cu:3]\n")
    log = tmp_path / "launches.log"
    log.write_text("3 a<T> [x.cu:1]\n2 a<T> [x.cu:1]\n")  # two processes
    assert launch_coverage.main([str(log), "--sites", str(sites)]) == 1
    out = capsys.readouterr().out
    assert "CUDA launch sites: 3, launched by the tests: 1, launches: 5" in out
    assert "never launched: b [x.cu:9]" in out
    assert launch_coverage.main([str(log), "--sites", str(sites), "--allow", "b *", "--allow", "spin_kernel *"]) == 0
    assert "never launched (allowed): spin_kernel [s.cu:3]" in capsys.readouterr().out


def test_coverage_rejects_a_bad_log_and_a_missing_one(tmp_path: Path):
    sites = tmp_path / "sites.txt"
    sites.write_text("a [x.cu:1]\n")
    log = tmp_path / "launches.log"
    log.write_text("many a [x.cu:1]\n")
    with pytest.raises(SystemExit, match=r"launches.log:1: expected 'count site'"):
        launch_coverage.main([str(log), "--sites", str(sites)])
    assert launch_coverage.main([str(tmp_path / "none.log"), "--sites", str(sites)]) == 2
