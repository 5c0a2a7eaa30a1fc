// Kernels with known answers and known bugs, run only in the emulator build: the tests of
// the emulator itself (tests/test_cuda_emulator.py) check that it computes what a GPU would
// and that it catches what compute-sanitizer or a wrong answer would catch on one.
#pragma once
#include <string>
#include <vector>

namespace benchsuite::emu_selftest {

// Runs the named case and returns its output; a launch the emulator rejects throws the
// CUDA error it raised. Names: see emulator_selftest_cases().
std::vector<float> run_emulator_selftest(const std::string& name);
std::vector<std::string> emulator_selftest_cases();

}  // namespace benchsuite::emu_selftest
