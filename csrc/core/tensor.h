// Tensor: shape, element strides, a byte offset, dtype and device over a shared Storage.
// Storage is either owned (tracking allocator) or borrowed from another library (NumPy
// buffer, DLPack capsule) and released through a callback, so interop never copies.
// Views (view, as_strided) share the storage; data_ptr() already includes the offset.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace benchsuite {

class Storage {
 public:
  // Owned: allocated through the tracking allocator.
  Storage(Device device, size_t bytes);
  // Borrowed: `release` runs when the last tensor viewing it goes away.
  Storage(Device device, void* data, size_t bytes, std::function<void()> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Runs a deferred initialiser first (once), so every reader sees the contents.
  void* data() const {
    if (pending_init_.load(std::memory_order_acquire)) run_deferred_init();
    return data_;
  }
  size_t bytes() const { return bytes_; }
  // Contents produced on first access instead of now: a benchmark case allocates all of its
  // buffers before filling any, so one that cannot fit fails before spending time on the
  // others (case_helpers::random_input). `init` must write through raw_data(), not data().
  void defer_init(std::function<void()> init);
  void* raw_data() const { return data_; }
  Device device() const { return device_; }
  bool owned() const { return owned_; }

 private:
  Device device_;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  bool owned_ = true;
  std::function<void()> release_;
  void run_deferred_init() const;
  mutable std::function<void()> init_;
  mutable std::atomic<bool> pending_init_{false};
  mutable std::once_flag init_once_;
};

using Shape = std::vector<int64_t>;

class Tensor {
 public:
  Tensor() = default;
  static Tensor empty(const Shape& shape, DType dtype, Device device);
  // Views external memory; strides in elements (empty = contiguous).
  static Tensor from_external(void* data, const Shape& shape, const Shape& strides, DType dtype, Device device,
                              std::function<void()> release);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t ndim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t dim) const;
  int64_t numel() const;
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  size_t element_size() const { return dtype_size(dtype_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * element_size(); }
  bool is_contiguous() const;
  // The first element's address: storage data + byte_offset().
  void* data_ptr() const;
  int64_t byte_offset() const { return offset_; }
  template <class T>
  T* data() const { return static_cast<T*>(data_ptr()); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // Views sharing this tensor's storage (no copy). view: same elements in a new shape;
  // needs a contiguous tensor and the same element count (invalid_argument naming both
  // shapes otherwise). as_strided: any shape and element strides starting
  // `byte_offset` bytes into the storage; the caller keeps every element inside it.
  Tensor view(const Shape& shape) const;
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t byte_offset) const;
  // A contiguous view of `shape` and `dtype` at `byte_offset` into this tensor's storage (a
  // plan's tensors inside its arena); invalid_argument when it would run past the storage.
  Tensor storage_view(const Shape& shape, DType dtype, int64_t byte_offset) const;

  Tensor contiguous() const;            // self when already contiguous; any device
  Tensor to(Device device) const;       // copy (self when already there)
  Tensor clone() const;
  std::string describe() const;         // "float32[4, 8] on cpu"

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;  // bytes from storage_->data() to the first element
  DType dtype_ = DType::float32;
  Device device_;
};

Shape contiguous_strides(const Shape& shape);
// Element and byte counts of a shape, checked: a negative dimension, or a product past
// int64 (elements) or PTRDIFF_MAX (bytes), is invalid_argument with reason
// "size_overflow", so a wrapped size never reaches an allocation or a kernel.
int64_t checked_numel(const Shape& shape);
size_t checked_nbytes(const Shape& shape, DType dtype);

// Copies a non-contiguous tensor into a new contiguous one on the same device.
// core/ cannot call ops/, so the ops layer registers its strided-copy op here when
// the module loads (ops/manipulation/op.cpp); Tensor::contiguous() uses it on every device
// and falls back to an element loop on the CPU when none is set (a CUDA tensor then
// fails as unsupported).
using ContiguousHook = Tensor (*)(const Tensor& x);
void set_contiguous_hook(ContiguousHook hook);
ContiguousHook contiguous_hook();
std::string shape_str(const Shape& shape);

}  // namespace benchsuite
