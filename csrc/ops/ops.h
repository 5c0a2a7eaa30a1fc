// The ops users call: validate inputs (here, never inside kernels), allocate the output,
// pick a version and run it. CUDA work goes on the legacy default stream unless a
// stream is given, so results are ordered with PyTorch's default stream too.
#pragma once
#include <string>
#include <vector>

#include "common/activations.h"
#include "common/tensor.h"
#include "ops/registry.h"

namespace benchsuite::ops {

Tensor cast(const Tensor& x, DType dtype, const std::string& impl = "");  // a converted copy
Tensor fill(const Shape& shape, double value, DType dtype, Device device, const std::string& impl = "");
Tensor randn(const Shape& shape, uint64_t seed, DType dtype, Device device, float mean = 0.0f, float stddev = 1.0f,
             const std::string& impl = "");
Tensor uniform(const Shape& shape, uint64_t seed, DType dtype, Device device, float low = 0.0f, float high = 1.0f,
               const std::string& impl = "");
// b: same shape as a, or a row vector over a's last dimension.
Tensor add(const Tensor& a, const Tensor& b, const std::string& impl = "");
Tensor mul(const Tensor& a, const Tensor& b, const std::string& impl = "");
Tensor axpy(double alpha, const Tensor& x, const Tensor& y, const std::string& impl = "");  // alpha*x + y
Tensor activation(Activation kind, const Tensor& x, const std::string& impl = "");
Tensor activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const std::string& impl = "");
// Over the last axis (out shape = x.shape[:-1]) or, when all_elements, everything (shape []).
Tensor reduce(Reduction kind, const Tensor& x, bool all_elements, const std::string& impl = "");
Tensor softmax(const Tensor& x, const std::string& impl = "");
Tensor matmul(const Tensor& a, const Tensor& b, const std::string& impl = "");

// Row-wise normalisations over the last axis. Forward ops return {y, saved stats...}:
// layernorm {y, mean, rstd}, rmsnorm {y, rstd}; backward ops return {dx, dparams...}.
Tensor softmax_backward(const Tensor& y, const Tensor& dy, const std::string& impl = "");
Tensor log_softmax(const Tensor& x, const std::string& impl = "");
Tensor log_softmax_backward(const Tensor& y, const Tensor& dy, const std::string& impl = "");
std::vector<Tensor> layernorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                              const std::string& impl = "");
std::vector<Tensor> layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                       const Tensor& rstd, const std::string& impl = "");
std::vector<Tensor> rmsnorm(const Tensor& x, const Tensor& gamma, double eps, const std::string& impl = "");
std::vector<Tensor> rmsnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                                     const std::string& impl = "");
// Pieces for benchmark cases (validate once, allocate once, time only the kernel).
Shape row_stats_shape(const Tensor& x);
void check_layernorm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);
void run_layernorm(const OpVersion& v, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                   const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle stream = nullptr);
void run_layernorm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                            const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                            const Tensor& dbeta, StreamHandle stream = nullptr);
void check_rmsnorm_args(const Tensor& x, const Tensor& gamma, double eps);
void run_rmsnorm(const OpVersion& v, const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                 const Tensor& rstd, StreamHandle stream = nullptr);
void run_rmsnorm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                          const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, StreamHandle stream = nullptr);

// A tensor seen as rows over its last axis: cols = shape[-1] (1 for a scalar) and rows = the
// product of the leading dimensions, so empty rows still count (x [3, 0]: 3 rows of 0).
int64_t cols_of(const Tensor& x);
int64_t rows_of(const Tensor& x);

// invalid_argument unless t and other are on one device (names both and their descriptions).
void check_same_device(const char* op, const char* name, const Tensor& t, const char* other_name,
                       const Tensor& other);

// Validation shared by the ops and the benchmark cases (which call versions directly).
void check_add_args(const Tensor& a, const Tensor& b);
void check_binary_args(const char* op, const Tensor& a, const Tensor& b);
void check_softmax_args(const Tensor& x);
void check_matmul_args(const Tensor& a, const Tensor& b);
Shape matmul_output_shape(const Tensor& a, const Tensor& b);

// Reductions, split so a benchmark case can allocate once and time only the kernel.
void check_reduce_args(Reduction kind, const Tensor& x, bool all_elements);
Shape reduce_output_shape(const Tensor& x, bool all_elements);
Tensor reduce_workspace(Device device);
void run_reduce(const OpVersion& version, Reduction kind, const Tensor& x, const Tensor& out, const Tensor& workspace,
                bool all_elements, StreamHandle stream = nullptr);

// unsupported ("unsupported_dtype") naming op, version, device and dtype unless `version`
// lists `dtype`: every run_* checks its first input with it before calling a kernel.
void check_version_dtype(const OpVersion& version, DType dtype);

// Runs `version` with the device made current; contiguous inputs are the caller's job.
void run_unary(const OpVersion& version, const Tensor& x, const Tensor& out, StreamHandle stream = nullptr);
void run_binary(const OpVersion& version, const Tensor& a, const Tensor& b, const Tensor& out,
                StreamHandle stream = nullptr);
void run_creation(const OpVersion& version, const Tensor& out, const CreationParams& params,
                  StreamHandle stream = nullptr);

}  // namespace benchsuite::ops
