// Correctness comparison and host copies for checks.
#include "ops/check.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace benchsuite::ops {

double default_tolerance(DType dtype) {
  switch (dtype) {
    case DType::float16: return 2e-3;
    case DType::bfloat16: return 1e-2;
    // The benchmark cases' references read their inputs as float (to_host_floats): against
    // them float64 outputs agree to float precision, not double's (the float64 references
    // are tested to 1e-12 against NumPy elsewhere).
    case DType::float64: return 1e-6;
    default: return 1e-5;
  }
}

std::vector<double> to_host_doubles(const Tensor& t) {
  Tensor host = t.to(Device{DeviceType::cpu, 0}).contiguous();
  const int64_t n = host.numel();
  std::vector<double> out(static_cast<size_t>(n));
  const void* p = n ? host.data_ptr() : nullptr;
  for (int64_t i = 0; i < n; ++i) out[i] = load_as(p, host.dtype(), i);
  return out;
}

std::vector<float> to_host_floats(const Tensor& t) {
  std::vector<double> d = to_host_doubles(t);
  return std::vector<float>(d.begin(), d.end());
}

Correctness compare(const std::vector<double>& out, const std::vector<double>& ref, double tolerance) {
  BENCHSUITE_CHECK(out.size() == ref.size(), "compare: sizes ", out.size(), " and ", ref.size(), " differ");
  Correctness c;
  c.tolerance = tolerance;
  double diff_sq = 0, ref_sq = 0;
  size_t non_finite = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) {
      ++non_finite;
      continue;
    }
    const double d = std::fabs(out[i] - ref[i]);
    c.max_abs_error = std::max(c.max_abs_error, d);
    diff_sq += d * d;
    ref_sq += ref[i] * ref[i];
  }
  c.max_rel_error = ref_sq > 0 ? std::sqrt(diff_sq / ref_sq) : std::sqrt(diff_sq);
  c.passed = non_finite == 0 && c.max_rel_error <= tolerance;
  if (non_finite)
    c.detail = detail::str_cat(non_finite, " of ", out.size(), " outputs are not finite (NaN/inf or never written)");
  else if (!c.passed)
    c.detail = detail::str_cat("normwise relative error ", c.max_rel_error, " > tolerance ", tolerance);
  return c;
}

}  // namespace benchsuite::ops
