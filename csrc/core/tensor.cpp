// Tensor and Storage: ownership, views, contiguous copies and device transfers.
#include "core/tensor.h"

#include <cstdint>
#include <cstring>
#include <sstream>

#include "core/allocator.h"
#include "core/cuda_runtime.h"
#include "core/error.h"

namespace benchsuite {

Storage::Storage(Device device, size_t bytes)
    : device_(device), data_(tracked_allocate(device, bytes)), bytes_(bytes), owned_(true) {}

Storage::Storage(Device device, void* data, size_t bytes, std::function<void()> release)
    : device_(device), data_(data), bytes_(bytes), owned_(false), release_(std::move(release)) {}

void Storage::defer_init(std::function<void()> init) {
  init_ = std::move(init);
  pending_init_.store(true, std::memory_order_release);
}

void Storage::run_deferred_init() const {
  std::call_once(init_once_, [this] {
    init_();
    init_ = nullptr;
    pending_init_.store(false, std::memory_order_release);
  });
}

Storage::~Storage() {
  if (owned_)
    tracked_deallocate(device_, data_, bytes_);
  else if (release_)
    release_();
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
  return strides;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

static void check_shape(const Shape& shape) {
  for (size_t i = 0; i < shape.size(); ++i)
    BENCHSUITE_CHECK_ARG(shape[i] >= 0, "shape=", shape_str(shape), ": dimension ", i, " is negative");
}

int64_t checked_numel(const Shape& shape) {
  check_shape(shape);
  // The other dimensions must multiply within int64 even when one is zero (as NumPy
  // requires), so strides and numel() of an empty tensor never overflow either.
  int64_t n = 1;
  bool empty = false;
  for (int64_t s : shape)
    if (s == 0)
      empty = true;
    else if (__builtin_mul_overflow(n, s, &n))
      throw Error(ErrorKind::invalid_argument,
                  detail::str_cat("shape=", shape_str(shape), " has more than 2^63 elements"), __FILE__, __LINE__,
                  "size_overflow");
  return empty ? 0 : n;
}

size_t checked_nbytes(const Shape& shape, DType dtype) {
  const int64_t n = checked_numel(shape);
  int64_t bytes = 0;
  // PTRDIFF_MAX is the largest object C++ can address (and what pointer arithmetic on
  // the buffer may span), so it bounds every buffer.
  if (__builtin_mul_overflow(n, static_cast<int64_t>(dtype_size(dtype)), &bytes) || bytes > PTRDIFF_MAX)
    throw Error(ErrorKind::invalid_argument,
                detail::str_cat("shape=", shape_str(shape), " of ", dtype_name(dtype), " needs ", n, " x ",
                                dtype_size(dtype), " bytes, more than a process can address (2^63)"),
                __FILE__, __LINE__, "size_overflow");
  return static_cast<size_t>(bytes);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  const size_t bytes = checked_nbytes(shape, dtype);
  Tensor t;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ = std::make_shared<Storage>(device, bytes);
  return t;
}

Tensor Tensor::from_external(void* data, const Shape& shape, const Shape& strides, DType dtype, Device device,
                             std::function<void()> release) {
  checked_nbytes(shape, dtype);
  BENCHSUITE_CHECK_ARG(strides.empty() || strides.size() == shape.size(), "strides=", shape_str(strides),
                       " does not match shape=", shape_str(shape));
  Tensor t;
  t.shape_ = shape;
  t.strides_ = strides.empty() ? contiguous_strides(shape) : strides;
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ = std::make_shared<Storage>(device, data, t.nbytes(), std::move(release));
  return t;
}

int64_t Tensor::size(int64_t dim) const {
  int64_t n = ndim();
  int64_t d = dim < 0 ? dim + n : dim;
  BENCHSUITE_CHECK_ARG(d >= 0 && d < n, "dim=", dim, " is out of range for a ", n, "-d tensor");
  return shape_[d];
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t s : shape_) n *= s;
  return n;
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no element, no layout
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;  // stride of a size-1 dimension never matters
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  BENCHSUITE_CHECK_ARG(defined(), "tensor is undefined (default-constructed)");
  return static_cast<char*>(storage_->data()) + offset_;
}

Tensor Tensor::view(const Shape& shape) const {
  checked_numel(shape);
  BENCHSUITE_CHECK_ARG(defined(), "view: tensor is undefined (default-constructed)");
  Tensor t = *this;
  t.shape_ = shape;
  BENCHSUITE_CHECK_ARG(t.numel() == numel(), "view: shape=", shape_str(shape), " has ", t.numel(),
                       " elements but x.shape=", shape_str(shape_), " has ", numel());
  BENCHSUITE_CHECK_ARG(is_contiguous(), "view: x (", describe(), ", strides=", shape_str(strides_),
                       ") is not contiguous; make a contiguous copy first (reshape does)");
  t.strides_ = contiguous_strides(shape);
  return t;
}

Tensor Tensor::as_strided(const Shape& shape, const Shape& strides, int64_t byte_offset) const {
  checked_numel(shape);
  BENCHSUITE_CHECK_ARG(defined(), "as_strided: tensor is undefined (default-constructed)");
  BENCHSUITE_CHECK_ARG(strides.size() == shape.size(), "as_strided: strides=", shape_str(strides),
                       " does not match shape=", shape_str(shape));
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = strides;
  t.offset_ = byte_offset;
  return t;
}

Tensor Tensor::storage_view(const Shape& shape, DType dtype, int64_t byte_offset) const {
  const size_t bytes = checked_nbytes(shape, dtype);
  BENCHSUITE_CHECK_ARG(defined(), "storage_view: tensor is undefined (default-constructed)");
  BENCHSUITE_CHECK_ARG(byte_offset >= 0 && static_cast<size_t>(byte_offset) <= storage_->bytes() &&
                           bytes <= storage_->bytes() - static_cast<size_t>(byte_offset),
                       "storage_view: ", dtype_name(dtype), shape_str(shape), " at byte ", byte_offset,
                       " runs past the storage of ", storage_->bytes(), " bytes");
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.offset_ = byte_offset;
  t.dtype_ = dtype;
  return t;
}

namespace {
ContiguousHook g_contiguous_hook = nullptr;  // constant-initialised: safe during static init
}  // namespace

void set_contiguous_hook(ContiguousHook hook) { g_contiguous_hook = hook; }
ContiguousHook contiguous_hook() { return g_contiguous_hook; }

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  if (g_contiguous_hook) return g_contiguous_hook(*this);
  if (device_.is_cuda())
    BENCHSUITE_UNSUPPORTED("non_contiguous", "a non-contiguous CUDA tensor (", describe(),
                           ") cannot be made contiguous: no strided-copy op is registered");
  Tensor out = Tensor::empty(shape_, dtype_, device_);
  const size_t elem = element_size();
  const char* src = static_cast<const char*>(data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  const int64_t n = numel();
  const int64_t nd = ndim();
  Shape index(nd, 0);
  for (int64_t linear = 0; linear < n; ++linear) {
    int64_t offset = 0;
    for (int64_t d = 0; d < nd; ++d) offset += index[d] * strides_[d];
    std::memcpy(dst + linear * elem, src + offset * static_cast<int64_t>(elem), elem);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++index[d] < shape_[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

Tensor Tensor::to(Device device) const {
  if (device == device_) return *this;
  Tensor src = contiguous();
  Tensor out = Tensor::empty(shape_, dtype_, device);
  if (nbytes() == 0) return out;
  if (device_.type == DeviceType::cpu && device.is_cuda()) {
    cuda_set_device(device.index);
    cuda_memcpy_h2d(out.data_ptr(), src.data_ptr(), nbytes());
  } else if (device_.is_cuda() && device.type == DeviceType::cpu) {
    cuda_set_device(device_.index);
    cuda_memcpy_d2h(out.data_ptr(), src.data_ptr(), nbytes());
  } else {
    cuda_memcpy_d2d(out.data_ptr(), src.data_ptr(), nbytes());
  }
  return out;
}

Tensor Tensor::clone() const {
  Tensor src = contiguous();
  Tensor out = Tensor::empty(shape_, dtype_, device_);
  if (nbytes() == 0) return out;
  if (device_.is_cuda())
    cuda_memcpy_d2d(out.data_ptr(), src.data_ptr(), nbytes());
  else
    std::memcpy(out.data_ptr(), src.data_ptr(), nbytes());
  return out;
}

std::string Tensor::describe() const {
  return std::string(dtype_name(dtype_)) + shape_str(shape_) + " on " + device_.str();
}

}  // namespace benchsuite
