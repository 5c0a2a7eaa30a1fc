// Counter-based RNG (Philox4x32-10, Salmon et al. 2011). Element i of a stream depends
// only on (seed, i), so CPU and CUDA fill the same tensor with the same numbers and any
// thread can produce any element without shared state.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace benchsuite {

struct Philox4 {
  uint32_t x, y, z, w;
};

BENCHSUITE_HOST_DEVICE uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t product = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(product >> 32);
  return static_cast<uint32_t>(product);
}

BENCHSUITE_HOST_DEVICE Philox4 philox4x32_10(Philox4 counter, uint32_t key0, uint32_t key1) {
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo32(0xD2511F53u, counter.x, &hi0);
    uint32_t lo1 = mulhilo32(0xCD9E8D57u, counter.z, &hi1);
    counter = Philox4{hi1 ^ counter.y ^ key0, lo1, hi0 ^ counter.w ^ key1, lo0};
    key0 += 0x9E3779B9u;
    key1 += 0xBB67AE85u;
  }
  return counter;
}

// Four uint32 for block `block` (= element index / 4) of stream `seed`.
BENCHSUITE_HOST_DEVICE Philox4 philox_block(uint64_t seed, uint64_t block) {
  Philox4 counter{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0u, 0u};
  return philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

BENCHSUITE_HOST_DEVICE uint32_t philox_word(const Philox4& r, int lane) {
  return lane == 0 ? r.x : lane == 1 ? r.y : lane == 2 ? r.z : r.w;
}

// Uniform in [0, 1) with 24 random bits: exactly representable in float32.
BENCHSUITE_HOST_DEVICE float uniform_from_bits(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// Element `index` of a uniform [low, high) stream.
BENCHSUITE_HOST_DEVICE float rng_uniform(uint64_t seed, uint64_t index, float low, float high) {
  Philox4 r = philox_block(seed, index >> 2);
  return low + (high - low) * uniform_from_bits(philox_word(r, static_cast<int>(index & 3)));
}

// Element `index` of a standard normal stream: Box-Muller on words (0,1) and (2,3) of the
// block, computed in double so host libm and CUDA agree after rounding to float.
BENCHSUITE_HOST_DEVICE float rng_normal(uint64_t seed, uint64_t index) {
  Philox4 r = philox_block(seed, index >> 2);
  const int lane = static_cast<int>(index & 3);
  const uint32_t a = lane < 2 ? r.x : r.z;
  const uint32_t b = lane < 2 ? r.y : r.w;
  const double u1 = (static_cast<double>(a) + 1.0) * 2.3283064365386963e-10;  // (0, 1]
  const double u2 = static_cast<double>(b) * 2.3283064365386963e-10;          // [0, 1)
  const double radius = sqrt(-2.0 * log(u1));
  const double angle = 6.283185307179586 * u2;
  return static_cast<float>((lane & 1) ? radius * sin(angle) : radius * cos(angle));
}

// The four normals of block `block` at once (elements 4*block .. 4*block+3): the same
// values as rng_normal for each index, with one Philox call and two logarithms.
BENCHSUITE_HOST_DEVICE void rng_normal4(uint64_t seed, uint64_t block, float out[4]) {
  const Philox4 r = philox_block(seed, block);
  const uint32_t words[4] = {r.x, r.y, r.z, r.w};
  for (int pair = 0; pair < 2; ++pair) {
    const double u1 = (static_cast<double>(words[2 * pair]) + 1.0) * 2.3283064365386963e-10;
    const double u2 = static_cast<double>(words[2 * pair + 1]) * 2.3283064365386963e-10;
    const double radius = sqrt(-2.0 * log(u1));
    const double angle = 6.283185307179586 * u2;
    out[2 * pair] = static_cast<float>(radius * cos(angle));
    out[2 * pair + 1] = static_cast<float>(radius * sin(angle));
  }
}

}  // namespace benchsuite
