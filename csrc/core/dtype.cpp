// DType and Device names and parsing.
#include "core/dtype.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace benchsuite {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::float32: return 4;
    case DType::float16: return 2;
    case DType::bfloat16: return 2;
    case DType::int8: return 1;
    case DType::int32: return 4;
    case DType::int64: return 8;
    case DType::uint8: return 1;
    case DType::float64: return 8;
  }
  BENCHSUITE_CHECK(false, "unknown dtype ", static_cast<int>(dtype));
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::float32: return "float32";
    case DType::float16: return "float16";
    case DType::bfloat16: return "bfloat16";
    case DType::int8: return "int8";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::uint8: return "uint8";
    case DType::float64: return "float64";
  }
  return "unknown";
}

const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> dtypes = {DType::float32, DType::float16, DType::bfloat16, DType::int8,
                                            DType::int32,   DType::int64,   DType::uint8, DType::float64};
  return dtypes;
}

bool is_floating(DType dtype) {
  return dtype == DType::float32 || dtype == DType::float16 || dtype == DType::bfloat16 || dtype == DType::float64;
}

DType parse_dtype(const std::string& name, const char* arg) {
  std::string key = name;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  if (key == "float32" || key == "fp32" || key == "f32" || key == "float") return DType::float32;
  if (key == "float16" || key == "fp16" || key == "f16" || key == "half") return DType::float16;
  if (key == "bfloat16" || key == "bf16") return DType::bfloat16;
  if (key == "int8" || key == "i8") return DType::int8;
  if (key == "int32" || key == "i32") return DType::int32;
  if (key == "int64" || key == "i64") return DType::int64;
  if (key == "uint8" || key == "u8") return DType::uint8;
  if (key == "float64" || key == "fp64" || key == "f64" || key == "double") return DType::float64;
  BENCHSUITE_THROW_ARG(arg, "='", name,
                       "' is not a dtype (expected one of float32, float16, bfloat16, float64, int8, int32, int64, uint8)");
}

std::string Device::str() const {
  return type == DeviceType::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device parse_device(const std::string& name, const char* arg) {
  if (name == "cpu") return Device{DeviceType::cpu, 0};
  if (name == "cuda") return Device{DeviceType::cuda, 0};
  if (name.rfind("cuda:", 0) == 0 && name.size() > 5) {
    const std::string digits = name.substr(5);
    if (std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }) &&
        digits.size() < 6)
      return Device{DeviceType::cuda, std::stoi(digits)};
  }
  BENCHSUITE_THROW_ARG(arg, "='", name, "' is not a device (expected 'cpu', 'cuda' or 'cuda:N')");
}

}  // namespace benchsuite
