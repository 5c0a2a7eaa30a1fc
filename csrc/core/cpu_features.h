// Run-time CPU feature checks for kernels compiled for instructions the build's baseline
// may lack (target attributes): a kernel runs only where its check says so.
#pragma once

// Kernels for instructions past the build's baseline are compiled with target attributes
// (x86-64 GCC and Clang); elsewhere they are left out and the checks below say no.
#if defined(__x86_64__) && defined(__GNUC__)
#define BENCHSUITE_X86_TARGET_KERNELS 1
#endif

namespace benchsuite::cpu {

// AVX512_BF16 (vdpbf16ps) / AVX512_VNNI (vpdpbusd), both with AVX512F+BW+VL. Either can be
// turned off with BENCHSUITE_DISABLE_ISA=avx512bf16,avx512vnni (read once per process), so
// the fallback paths can be run and compared on a machine that has the instructions.
bool has_avx512_bf16();
bool has_avx512_vnni();

}  // namespace benchsuite::cpu
