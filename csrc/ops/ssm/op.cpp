// The Mamba SSM ops: validation, the reference versions, and the ops users call.
#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/ssm/ssm.h"

namespace benchsuite::ops {

namespace {
// The reference on the inputs' storage: float32 or float64 (all six share it).
template <class T>
void ssm_cpu_as(const std::vector<Tensor>& in, const Tensor& y) {
  auto p = [](const Tensor& t) { return t.data<T>(); };
  cpu::mamba_ssm_reference(p(in[0]), p(in[1]), p(in[2]), p(in[3]), p(in[4]), p(in[5]), p(y), in[0].size(0),
                           in[0].size(1), in[0].size(2), in[2].size(1));
}
void ssm_cpu(const std::vector<Tensor>& in, const Tensor& y, StreamHandle) {
  if (in[0].dtype() == DType::float64)
    ssm_cpu_as<double>(in, y);
  else
    ssm_cpu_as<float>(in, y);
}
template <class T>
void ssm_backward_cpu_as(const Tensor& dy, const std::vector<Tensor>& in, const std::vector<Tensor>& g) {
  auto p = [](const Tensor& t) { return t.data<T>(); };
  cpu::mamba_ssm_backward_reference(p(dy), p(in[0]), p(in[1]), p(in[2]), p(in[3]), p(in[4]), p(in[5]), p(g[0]),
                                    p(g[1]), p(g[2]), p(g[3]), p(g[4]), p(g[5]), in[0].size(0), in[0].size(1),
                                    in[0].size(2), in[2].size(1));
}
void ssm_backward_cpu(const Tensor& dy, const std::vector<Tensor>& in, const std::vector<Tensor>& g, StreamHandle) {
  if (in[0].dtype() == DType::float64)
    ssm_backward_cpu_as<double>(dy, in, g);
  else
    ssm_backward_cpu_as<float>(dy, in, g);
}
#ifdef BENCHSUITE_WITH_CUDA
const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }

void ssm_cuda(const std::vector<Tensor>& in, const Tensor& y, StreamHandle s) {
  make_current(y);
  cuda::mamba_ssm_f32(f(in[0]), f(in[1]), f(in[2]), f(in[3]), f(in[4]), f(in[5]), w(y), in[0].size(0),
                      in[0].size(1), in[0].size(2), in[2].size(1), s);
}
void ssm_backward_cuda(const Tensor& dy, const std::vector<Tensor>& in, const std::vector<Tensor>& g,
                       StreamHandle s) {
  make_current(dy);
  const int64_t b = in[0].size(0), t = in[0].size(1), d = in[0].size(2), n = in[2].size(1);
  // The states and partials, a per-call workspace (as attention's).
  const Tensor ws = Tensor::empty({cuda::mamba_ssm_backward_workspace(b, t, d, n)}, DType::float32, dy.device());
  cuda::mamba_ssm_backward_f32(f(dy), f(in[0]), f(in[1]), f(in[2]), f(in[3]), f(in[4]), f(in[5]), w(g[0]), w(g[1]),
                               w(g[2]), w(g[3]), w(g[4]), w(g[5]), w(ws), b, t, d, n, s);
}
#endif
const char* const kNames[] = {"x", "dt", "A_log", "B", "C", "D"};
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(ssm) {
  const std::vector<DType> f32 = {DType::float32};
  // The CPU references also take float64 (double storage end to end, for finite differences).
  const std::vector<DType> ref = {DType::float32, DType::float64};
  table.add<MambaSsmOp>({"v1", "reference: one (batch, channel) at a time down the sequence, double", DeviceType::cpu,
                         ref, kReference | kDefault},
                        ssm_cpu);
  table.add<MambaSsmBackwardOp>(
      {"v1", "reference: states recomputed, the recurrence run in reverse, double", DeviceType::cpu, ref,
       kReference | kDefault},
      ssm_backward_cpu);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<MambaSsmOp>({"v1", "thread per (batch, channel) down the sequence, 16 states in registers per sweep, fp32",
                         DeviceType::cuda, f32, kDefault},
                        ssm_cuda);
  table.add<MambaSsmBackwardOp>(
      {"v1", "states recomputed into a workspace, thread per (batch, channel) reverse recurrence; dB, dC, dA_log, dD "
       "summed by second kernels in fixed order, fp32",
       DeviceType::cuda, f32, kDefault},
      ssm_backward_cuda);
#endif
}

void check_mamba_ssm_args(const std::vector<Tensor>& in) {
  BENCHSUITE_CHECK_ARG(in.size() == 6, "mamba_ssm: takes x, dt, A_log, B, C, D (6 tensors), got ", in.size());
  BENCHSUITE_CHECK_ARG(is_full_precision(in[0].dtype()), "mamba_ssm: x is ", in[0].describe(),
                       ", must be float32 or float64");
  for (size_t i = 1; i < 6; ++i)
    BENCHSUITE_CHECK_ARG(in[i].dtype() == in[0].dtype() && in[i].device() == in[0].device(), "mamba_ssm: ",
                         kNames[i], " is ", in[i].describe(), ", must be ", dtype_name(in[0].dtype()),
                         " on x's device (", in[0].device().str(), ")");
  BENCHSUITE_CHECK_ARG(in[0].ndim() == 3, "mamba_ssm: x is ", in[0].describe(), ", must be [batch, len, dim]");
  const int64_t b = in[0].size(0), t = in[0].size(1), d = in[0].size(2);
  BENCHSUITE_CHECK_ARG(in[2].ndim() == 2 && in[2].size(0) == d, "mamba_ssm: A_log is ", in[2].describe(),
                       ", must be [", d, ", state]");
  const int64_t n = in[2].size(1);
  const Shape want[] = {{b, t, d}, {b, t, d}, {d, n}, {b, t, n}, {b, t, n}, {d}};
  for (size_t i = 0; i < 6; ++i)
    BENCHSUITE_CHECK_ARG(in[i].shape() == want[i], "mamba_ssm: ", kNames[i], " is ", in[i].describe(), ", must be ",
                         shape_str(want[i]));
}

Tensor mamba_ssm(const std::vector<Tensor>& in, const std::string& impl) {
  check_mamba_ssm_args(in);
  const OpVersion& v = select_version(MambaSsmOp::name, in[0].device(), in[0].dtype(), impl);
  std::vector<Tensor> c;
  for (const Tensor& t : in) c.push_back(t.contiguous());
  Tensor y = Tensor::empty(in[0].shape(), in[0].dtype(), in[0].device());
  v.fn<MambaSsmSignature>()(c, y, nullptr);
  return y;
}

std::vector<Tensor> mamba_ssm_backward(const Tensor& dy, const std::vector<Tensor>& in, const std::string& impl) {
  check_mamba_ssm_args(in);
  check_same_device("mamba_ssm_backward", "dy", dy, "x", in[0]);
  BENCHSUITE_CHECK_ARG(dy.dtype() == in[0].dtype() && dy.shape() == in[0].shape(), "mamba_ssm_backward: dy is ",
                       dy.describe(), ", must be x's ", dtype_name(in[0].dtype()), " ", shape_str(in[0].shape()));
  const OpVersion& v = select_version(MambaSsmBackwardOp::name, in[0].device(), in[0].dtype(), impl);
  std::vector<Tensor> c, grads;
  for (const Tensor& t : in) {
    c.push_back(t.contiguous());
    grads.push_back(Tensor::empty(t.shape(), t.dtype(), t.device()));
  }
  v.fn<MambaSsmBackwardSignature>()(dy.contiguous(), c, grads, nullptr);
  return grads;
}

}  // namespace benchsuite::ops
