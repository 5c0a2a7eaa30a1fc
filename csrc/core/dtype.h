// Element types and devices the core knows, with float16/bfloat16 bit conversions that
// compile for host and device (CPU references need them as much as CUDA kernels do).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/host_device.h"

namespace benchsuite {

// float64 is last so the older values keep their numbers; it exists for references and the
// finite-difference gradient checks (double math end to end), not for speed.
enum class DType : uint8_t { float32, float16, bfloat16, int8, int32, int64, uint8, float64 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
// Parses "float32", "fp32", "f32", "float16", "half", "bfloat16", "bf16", ...; throws
// invalid_argument naming `arg` and the value otherwise.
DType parse_dtype(const std::string& name, const char* arg = "dtype");
bool is_floating(DType dtype);
// float32 or float64: what the fp32-only ops take (their float64 versions are the references
// the finite-difference gradient checks run on).
inline bool is_full_precision(DType dtype) { return dtype == DType::float32 || dtype == DType::float64; }
// The dtype of the statistics an op saves for a tensor of `dtype` (norm mean/rstd, attention
// lse, gate probabilities): float32, or float64 for float64 tensors, so a float64 graph is
// double end to end.
inline DType stats_dtype(DType dtype) { return dtype == DType::float64 ? DType::float64 : DType::float32; }
const std::vector<DType>& all_dtypes();

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
  bool is_cuda() const { return type == DeviceType::cuda; }
  std::string str() const;
};
// "cpu", "cuda", "cuda:1"; throws invalid_argument naming `arg` otherwise.
Device parse_device(const std::string& name, const char* arg = "device");

// ---- 16-bit float conversions (round to nearest even) -------------------------------
BENCHSUITE_HOST_DEVICE uint32_t float_bits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return bits;
}
BENCHSUITE_HOST_DEVICE float bits_float(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

BENCHSUITE_HOST_DEVICE uint16_t float_to_bf16_bits(float value) {
  uint32_t bits = float_bits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);  // NaN stays NaN
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}
BENCHSUITE_HOST_DEVICE float bf16_bits_to_float(uint16_t bits) { return bits_float(static_cast<uint32_t>(bits) << 16); }

BENCHSUITE_HOST_DEVICE uint16_t float_to_half_bits(float value) {
  uint32_t x = float_bits(value);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (abs < 0x38800000u) {  // subnormal half (or zero)
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t mantissa = (abs & 0x007fffffu) | 0x00800000u;
    int shift = 126 - static_cast<int>(abs >> 23);  // 14..24
    uint32_t half_mant = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half_mant & 1u))) ++half_mant;
    return static_cast<uint16_t>(sign | half_mant);
  }
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}
BENCHSUITE_HOST_DEVICE float half_bits_to_float(uint16_t h) {
  uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    if (mantissa == 0) return bits_float(sign);
    // subnormal: value = mantissa * 2^-24
    float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return bits_float(sign | 0x7f800000u | (mantissa << 13));
  return bits_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// Stores `value` as element i of a buffer of any dtype (integers truncate toward zero):
// the creation kernels on both backends write through this, so they round identically.
BENCHSUITE_HOST_DEVICE void store_as(void* out, DType dtype, int64_t i, double value) {
  switch (dtype) {
    case DType::float32: static_cast<float*>(out)[i] = static_cast<float>(value); break;
    case DType::float16: static_cast<uint16_t*>(out)[i] = float_to_half_bits(static_cast<float>(value)); break;
    case DType::bfloat16: static_cast<uint16_t*>(out)[i] = float_to_bf16_bits(static_cast<float>(value)); break;
    case DType::int8: static_cast<int8_t*>(out)[i] = static_cast<int8_t>(value); break;
    case DType::int32: static_cast<int32_t*>(out)[i] = static_cast<int32_t>(value); break;
    case DType::int64: static_cast<int64_t*>(out)[i] = static_cast<int64_t>(value); break;
    case DType::uint8: static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(value); break;
    case DType::float64: static_cast<double*>(out)[i] = value; break;
  }
}

// Element i of a buffer of any dtype, widened to double.
BENCHSUITE_HOST_DEVICE double load_as(const void* in, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::float32: return static_cast<const float*>(in)[i];
    case DType::float16: return half_bits_to_float(static_cast<const uint16_t*>(in)[i]);
    case DType::bfloat16: return bf16_bits_to_float(static_cast<const uint16_t*>(in)[i]);
    case DType::int8: return static_cast<const int8_t*>(in)[i];
    case DType::int32: return static_cast<const int32_t*>(in)[i];
    case DType::int64: return static_cast<double>(static_cast<const int64_t*>(in)[i]);
    case DType::uint8: return static_cast<const uint8_t*>(in)[i];
    case DType::float64: return static_cast<const double*>(in)[i];
  }
  return 0.0;
}

}  // namespace benchsuite
