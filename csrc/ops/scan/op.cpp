// The selective scan op: versions (sequential reference and the chunked scan on the CPU,
// their CUDA counterparts), validation naming the shapes, workspace and dispatch.
#include "ops/scan/scan.h"

#include "core/error.h"
#include "ops/dispatch.h"

namespace benchsuite::ops {

namespace {
const char* kOp = "selective_scan";

struct Dims {
  int64_t batch, seq_len, dim, state;
};
// B, T, D from x [B, T, D]; N from c [B, T, N]. Shapes are checked before this is used.
Dims dims_of(const Tensor& x, const Tensor& c) { return {x.size(0), x.size(1), x.size(2), c.size(2)}; }

const float* f(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }
float* w(const Tensor& t) { return t.data<float>(); }

// v1 on either device is the sequential scan and needs no workspace; later versions are chunked.
bool chunked(const OpVersion& v) { return v.version != "v1"; }

// The reference on x's storage, float32 or float64 (every operand shares it).
template <class T>
void scan_reference_as(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& h0,
                       const Tensor& y, const Tensor& h_last) {
  const Dims s = dims_of(x, c);
  auto p = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
  cpu::selective_scan_reference(p(x), p(a), p(b), p(c), p(h0), p(y), p(h_last), s.batch, s.seq_len, s.dim, s.state);
}
void scan_cpu_v1(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& h0, const Tensor& y,
                 const Tensor& h_last, const Tensor&, int64_t, StreamHandle) {
  if (x.dtype() == DType::float64)
    scan_reference_as<double>(x, a, b, c, h0, y, h_last);
  else
    scan_reference_as<float>(x, a, b, c, h0, y, h_last);
}
void scan_cpu_v2(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& h0, const Tensor& y,
                 const Tensor& h_last, const Tensor& workspace, int64_t chunk, StreamHandle) {
  const Dims s = dims_of(x, c);
  cpu::selective_scan_chunked(f(x), f(a), f(b), f(c), f(h0), w(y), w(h_last), w(workspace), s.batch, s.seq_len,
                              s.dim, s.state, chunk);
}
#ifdef BENCHSUITE_WITH_CUDA
void scan_cuda_v1(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& h0,
                  const Tensor& y, const Tensor& h_last, const Tensor&, int64_t, StreamHandle stream) {
  const Dims s = dims_of(x, c);
  cuda::selective_scan_sequential_f32(f(x), f(a), f(b), f(c), f(h0), w(y), w(h_last), s.batch, s.seq_len, s.dim,
                                      s.state, stream);
}
void scan_cuda_v2(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& h0,
                  const Tensor& y, const Tensor& h_last, const Tensor& workspace, int64_t chunk,
                  StreamHandle stream) {
  const Dims s = dims_of(x, c);
  cuda::selective_scan_chunked_f32(f(x), f(a), f(b), f(c), f(h0), w(y), w(h_last), w(workspace), s.batch,
                                   s.seq_len, s.dim, s.state, chunk, stream);
}
#endif

void check_same_kind(const char* name, const Tensor& t, const Tensor& x) {
  BENCHSUITE_CHECK_ARG(t.device() == x.device() && t.dtype() == x.dtype(), kOp, ": ", name, " is ", t.describe(),
                       " but x is ", x.describe());
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(scan) {
  const std::vector<DType> f32 = {DType::float32};
  table.add<SelectiveScanOp>(
      {"v1", "sequential reference: one (batch, channel) at a time down T, h and y sums in double", DeviceType::cpu,
       {DType::float32, DType::float64}, kReference},
      scan_cpu_v1);
  table.add<SelectiveScanOp>({"v2",
                              "chunked: chunks of L steps scanned from h=0 over OpenMP, carries passed across chunks, "
                              "then each chunk adds prod(a)*carry",
                              DeviceType::cpu, f32, kDefault},
                             scan_cpu_v2);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<SelectiveScanOp>(
      {"v1", "sequential: a thread per (batch, channel, state) down T, y by warp-shuffle reduction over N",
       DeviceType::cuda, f32},
      scan_cuda_v1);
  table.add<SelectiveScanOp>({"v2",
                              "chunked, three kernels: per-chunk scans from h=0, a carry kernel across chunks, a "
                              "fix-up kernel adding prod(a)*carry",
                              DeviceType::cuda, f32, kDefault},
                             scan_cuda_v2);
#endif
}

void check_selective_scan_args(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& h0,
                               int64_t chunk) {
  BENCHSUITE_CHECK_ARG(chunk >= 1, kOp, ": chunk=", chunk, " must be >= 1");
  BENCHSUITE_CHECK_ARG(x.ndim() == 3, kOp, ": x.shape=", shape_str(x.shape()), " must be [B, T, D] (3-D)");
  BENCHSUITE_CHECK_ARG(is_floating(x.dtype()), kOp, ": x.dtype=", dtype_name(x.dtype()), " must be a floating type");
  check_same_kind("a", a, x);
  check_same_kind("b", b, x);
  check_same_kind("c", c, x);
  if (h0.defined()) check_same_kind("h0", h0, x);
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  BENCHSUITE_CHECK_ARG(c.ndim() == 3 && c.size(0) == B && c.size(1) == T, kOp, ": c.shape=", shape_str(c.shape()),
                       " must be [B, T, N] with [B, T]=", shape_str({B, T}), " from x.shape=", shape_str(x.shape()));
  const int64_t N = c.size(2);
  const Shape full = {B, T, D, N};
  for (auto [name, t] : {std::pair<const char*, const Tensor*>{"a", &a}, {"b", &b}}) {
    BENCHSUITE_CHECK_ARG(t->shape() == full, kOp, ": ", name, ".shape=", shape_str(t->shape()),
                         " must be [B, T, D, N]=", shape_str(full), " (B, T, D from x.shape=", shape_str(x.shape()),
                         ", N from c.shape=", shape_str(c.shape()), ")");
  }
  if (h0.defined()) {
    const Shape state = {B, D, N};
    BENCHSUITE_CHECK_ARG(h0.shape() == state, kOp, ": h0.shape=", shape_str(h0.shape()),
                         " must be [B, D, N]=", shape_str(state), " (B, D from x.shape=", shape_str(x.shape()),
                         ", N from c.shape=", shape_str(c.shape()), ")");
  }
}

Tensor selective_scan_workspace(const OpVersion& v, const Tensor& x, const Tensor& c, int64_t chunk) {
  if (!chunked(v)) return Tensor();
  const Dims s = dims_of(x, c);
  int64_t floats = cpu::selective_scan_chunked_workspace(s.batch, s.seq_len, s.dim, s.state, chunk);
#ifdef BENCHSUITE_WITH_CUDA
  if (x.device().is_cuda()) floats = cuda::selective_scan_chunked_workspace(s.batch, s.seq_len, s.dim, s.state, chunk);
#endif
  return Tensor::empty({floats}, DType::float32, x.device());
}

void run_selective_scan(const OpVersion& v, const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c,
                        const Tensor& h0, const Tensor& y, const Tensor& h_last, const Tensor& workspace,
                        int64_t chunk, StreamHandle stream) {
  if (y.numel() == 0 && h_last.numel() == 0) return;
  make_current(x);
  v.fn<SelectiveScanSignature>()(x, a, b, c, h0, y, h_last, workspace, chunk, stream);
}

std::vector<Tensor> selective_scan(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c,
                                   const Tensor& h0, int64_t chunk, const std::string& impl) {
  check_selective_scan_args(x, a, b, c, h0, chunk);
  const OpVersion& v = select_version(kOp, x.device(), x.dtype(), impl);
  const Dims s = dims_of(x, c);
  Tensor y = Tensor::empty({s.batch, s.seq_len, s.dim}, x.dtype(), x.device());
  Tensor h_last = Tensor::empty({s.batch, s.dim, s.state}, x.dtype(), x.device());
  run_selective_scan(v, x.contiguous(), a.contiguous(), b.contiguous(), c.contiguous(),
                     h0.defined() ? h0.contiguous() : h0, y, h_last, selective_scan_workspace(v, x, c, chunk), chunk);
  return {y, h_last};
}

}  // namespace benchsuite::ops
