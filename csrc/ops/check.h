// The correctness policy: outputs are compared with a reference by the normwise relative
// error ||out - ref|| / ||ref|| against a per-dtype tolerance; a non-finite output never
// passes. Host copies in double make the comparison independent of the output dtype.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace benchsuite::ops {

struct Correctness {
  double max_abs_error = 0;
  double max_rel_error = 0;  // normwise: ||out - ref||_2 / ||ref||_2
  double tolerance = 0;      // on max_rel_error
  bool passed = false;
  std::string detail;
};

// fp32 1e-5, fp16 2e-3, bf16 1e-2 (about 4x the rounding of the output type).
double default_tolerance(DType dtype);
// Element values of any tensor (any device, any strides) as host doubles.
std::vector<double> to_host_doubles(const Tensor& t);
std::vector<float> to_host_floats(const Tensor& t);
Correctness compare(const std::vector<double>& out, const std::vector<double>& ref, double tolerance);

}  // namespace benchsuite::ops
