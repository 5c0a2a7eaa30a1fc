// bs.Tensor and zero-copy interop: the buffer protocol (NumPy) both ways and DLPack
// (PyTorch, CuPy, NumPy) both ways. Borrowed memory is released with the GIL held.
#include <pybind11/stl.h>

#include <cstring>

#include "bindings/bindings.h"
#include "bindings/dlpack.h"
#include "core/cuda_runtime.h"
#include "core/error.h"

namespace benchsuite::bindings {

namespace {

// ---- buffer protocol ----------------------------------------------------------------
DType dtype_from_format(std::string format, ssize_t itemsize, const char* arg) {
  while (!format.empty() && (format[0] == '<' || format[0] == '=' || format[0] == '@' || format[0] == '!'))
    format.erase(0, 1);
  if (format == "f" && itemsize == 4) return DType::float32;
  if (format == "e" && itemsize == 2) return DType::float16;
  if (format == "b" && itemsize == 1) return DType::int8;
  if (format == "B" && itemsize == 1) return DType::uint8;
  if ((format == "i" || format == "l" || format == "q") && itemsize == 4) return DType::int32;
  if ((format == "i" || format == "l" || format == "q") && itemsize == 8) return DType::int64;
  if (format == "d" && itemsize == 8) return DType::float64;
  BENCHSUITE_UNSUPPORTED("unsupported_dtype", arg, ": buffer format '", format, "' (itemsize ", itemsize,
                         ") is not a supported dtype");
}

const char* format_of(DType dtype) {
  switch (dtype) {
    case DType::float32: return "f";
    case DType::float16: return "e";
    case DType::int8: return "b";
    case DType::uint8: return "B";
    case DType::int32: return "i";
    case DType::int64: return "q";
    case DType::float64: return "d";
    case DType::bfloat16: break;
  }
  BENCHSUITE_UNSUPPORTED("unsupported_dtype",
                         "a bfloat16 tensor has no NumPy dtype; exchange it through DLPack (e.g. torch.from_dlpack)");
}

Tensor from_buffer(const py::buffer& buffer, const char* arg) {
  auto* info = new py::buffer_info(buffer.request());
  const DType dtype = dtype_from_format(info->format, info->itemsize, arg);
  Shape shape(info->shape.begin(), info->shape.end());
  Shape strides;
  for (ssize_t s : info->strides) {
    BENCHSUITE_CHECK_ARG(s % info->itemsize == 0, arg, ": stride ", s, " bytes is not a multiple of the item size ",
                         info->itemsize);
    strides.push_back(s / info->itemsize);
  }
  // The Py_buffer view (held by `info`) keeps the exporter's memory alive and unmovable.
  return Tensor::from_external(info->ptr, shape, strides, dtype, Device{DeviceType::cpu, 0}, [info] {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire gil;
    delete info;
  });
}

// ---- DLPack ---------------------------------------------------------------------------
DLDataType dl_dtype(DType dtype) {
  switch (dtype) {
    case DType::float32: return {kDLFloat, 32, 1};
    case DType::float16: return {kDLFloat, 16, 1};
    case DType::bfloat16: return {kDLBfloat, 16, 1};
    case DType::int8: return {kDLInt, 8, 1};
    case DType::int32: return {kDLInt, 32, 1};
    case DType::int64: return {kDLInt, 64, 1};
    case DType::uint8: return {kDLUInt, 8, 1};
    case DType::float64: return {kDLFloat, 64, 1};
  }
  return {kDLFloat, 32, 1};
}

DType dtype_from_dl(const DLDataType& t) {
  BENCHSUITE_CHECK_ARG(t.lanes == 1, "from_dlpack: vector dtypes (lanes=", t.lanes, ") are not supported");
  if (t.code == kDLFloat && t.bits == 32) return DType::float32;
  if (t.code == kDLFloat && t.bits == 16) return DType::float16;
  if (t.code == kDLFloat && t.bits == 64) return DType::float64;
  if (t.code == kDLBfloat && t.bits == 16) return DType::bfloat16;
  if (t.code == kDLInt && t.bits == 8) return DType::int8;
  if (t.code == kDLInt && t.bits == 32) return DType::int32;
  if (t.code == kDLInt && t.bits == 64) return DType::int64;
  if (t.code == kDLUInt && t.bits == 8) return DType::uint8;
  BENCHSUITE_UNSUPPORTED("unsupported_dtype", "from_dlpack: DLPack dtype (code ", static_cast<int>(t.code), ", bits ",
                         static_cast<int>(t.bits), ") is not supported");
}

struct ExportContext {
  Tensor tensor;
  Shape shape, strides;
};

void delete_export(DLManagedTensor* managed) {
  delete static_cast<ExportContext*>(managed->manager_ctx);
  delete managed;
}

void capsule_destructor(PyObject* capsule) {
  // A consumer renames the capsule to "used_dltensor"; only an unconsumed one is ours.
  if (PyCapsule_IsValid(capsule, "dltensor")) {
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
    if (managed && managed->deleter) managed->deleter(managed);
  }
}

py::capsule to_dlpack(const Tensor& t, const py::object& stream) {
  if (t.device().is_cuda()) {
    // Our ops queue on the legacy default stream; make the consumer's stream wait for it.
    if (!stream.is_none()) {
      const int64_t s = stream.cast<int64_t>();
      BENCHSUITE_CHECK_ARG(s != 0, "__dlpack__: stream=0 is ambiguous for CUDA (use 1 for the legacy default stream)");
      if (s != 1 && s != -1) {
        cuda_set_device(t.device().index);
        cuda_stream_wait_default(s == 2 ? reinterpret_cast<StreamHandle>(0x2) : reinterpret_cast<StreamHandle>(s));
      }
    }
  } else {
    BENCHSUITE_CHECK_ARG(stream.is_none() || stream.cast<int64_t>() == -1,
                         "__dlpack__: stream must be None for a CPU tensor");
  }
  auto* ctx = new ExportContext{t, t.shape(), t.strides()};
  auto* managed = new DLManagedTensor{};
  managed->dl_tensor.data = t.numel() ? t.data_ptr() : nullptr;
  managed->dl_tensor.device = {t.device().is_cuda() ? kDLCUDA : kDLCPU, t.device().index};
  managed->dl_tensor.ndim = static_cast<int32_t>(t.ndim());
  managed->dl_tensor.dtype = dl_dtype(t.dtype());
  managed->dl_tensor.shape = ctx->shape.data();
  managed->dl_tensor.strides = ctx->strides.data();
  managed->dl_tensor.byte_offset = 0;  // data already includes the view's offset (as torch exports)
  managed->manager_ctx = ctx;
  managed->deleter = delete_export;
  return py::capsule(managed, "dltensor", capsule_destructor);
}

Tensor from_dlpack_capsule(const py::capsule& capsule) {
  PyObject* raw = capsule.ptr();
  BENCHSUITE_CHECK_ARG(PyCapsule_IsValid(raw, "dltensor"),
                       "from_dlpack: the capsule is not an unconsumed 'dltensor' (already used, or versioned)");
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(raw, "dltensor"));
  PyCapsule_SetName(raw, "used_dltensor");
  const DLTensor& dl = managed->dl_tensor;
  Device device;
  if (dl.device.device_type == kDLCPU || dl.device.device_type == kDLCUDAHost) {
    device = Device{DeviceType::cpu, 0};
  } else if (dl.device.device_type == kDLCUDA) {
    device = Device{DeviceType::cuda, dl.device.device_id};
  } else {
    if (managed->deleter) managed->deleter(managed);
    BENCHSUITE_UNSUPPORTED("unsupported_device", "from_dlpack: DLPack device type ", dl.device.device_type,
                           " is not supported (cpu and cuda are)");
  }
  DType dtype;
  try {
    dtype = dtype_from_dl(dl.dtype);
  } catch (...) {
    if (managed->deleter) managed->deleter(managed);
    throw;
  }
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : Shape{};
  void* data = static_cast<char*>(dl.data) + dl.byte_offset;
  return Tensor::from_external(data, shape, strides, dtype, device, [managed] {
    if (!managed->deleter || !Py_IsInitialized()) return;
    py::gil_scoped_acquire gil;  // NumPy's deleter drops a Python reference
    managed->deleter(managed);
  });
}

Tensor from_dlpack_object(const py::object& obj) {
  if (py::isinstance<py::capsule>(obj)) return from_dlpack_capsule(obj.cast<py::capsule>());
  BENCHSUITE_CHECK_ARG(py::hasattr(obj, "__dlpack__"), "from_dlpack: object of type ",
                       std::string(py::str(py::type::of(obj).attr("__name__"))), " has no __dlpack__ method");
  int device_type = kDLCPU;
  if (py::hasattr(obj, "__dlpack_device__")) {
    py::tuple dev = obj.attr("__dlpack_device__")();
    device_type = dev[0].cast<int>();
  }
  py::object capsule = device_type == kDLCUDA ? obj.attr("__dlpack__")(py::arg("stream") = 1)
                                              : obj.attr("__dlpack__")();
  return from_dlpack_capsule(capsule.cast<py::capsule>());
}

py::buffer_info tensor_buffer(const Tensor& t) {
  BENCHSUITE_CHECK_ARG(!t.device().is_cuda(), "tensor is on ", t.device().str(),
                       "; copy it to the host first with .to('cpu')");
  const ssize_t item = static_cast<ssize_t>(t.element_size());
  std::vector<ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<ssize_t> strides;
  for (int64_t s : t.strides()) strides.push_back(static_cast<ssize_t>(s) * item);
  return py::buffer_info(t.numel() ? t.data_ptr() : nullptr, item, format_of(t.dtype()),
                         static_cast<ssize_t>(shape.size()), shape, strides);
}

}  // namespace

Tensor as_tensor(const py::handle& obj, const char* arg) {
  if (py::isinstance<Tensor>(obj)) return obj.cast<Tensor>();
  if (py::hasattr(obj, "__dlpack_device__")) {
    py::tuple dev = obj.attr("__dlpack_device__")();
    if (dev[0].cast<int>() == kDLCUDA) return from_dlpack_object(py::reinterpret_borrow<py::object>(obj));
  }
  if (PyObject_CheckBuffer(obj.ptr())) return from_buffer(py::reinterpret_borrow<py::buffer>(obj), arg);
  if (py::hasattr(obj, "__dlpack__")) return from_dlpack_object(py::reinterpret_borrow<py::object>(obj));
  BENCHSUITE_THROW_ARG(arg, ": expected an array (NumPy, a DLPack producer such as torch/cupy, or bs.Tensor), got ",
                       std::string(py::str(py::type::of(obj).attr("__name__"))));
}

BENCHSUITE_REGISTER_BINDINGS(tensor, kBindCoreTypes) {
  py::class_<Tensor>(m, "Tensor", py::buffer_protocol(),
                     "An n-d array owned by benchsuite's tracking allocator or borrowed without a copy.")
      .def_buffer(&tensor_buffer)
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("strides", [](const Tensor& t) { return py::tuple(py::cast(t.strides())); },
                             "Strides in elements.")
      .def_property_readonly("dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); })
      .def_property_readonly("device", [](const Tensor& t) { return t.device().str(); })
      .def_property_readonly("ndim", &Tensor::ndim)
      .def_property_readonly("nbytes", &Tensor::nbytes)
      .def_property_readonly("owns_memory", [](const Tensor& t) { return t.storage()->owned(); })
      .def_property_readonly("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); },
                             "Address of the first element (storage start + byte_offset).")
      .def_property_readonly("byte_offset", &Tensor::byte_offset,
                             "Bytes from the start of the storage to the first element (non-zero for slices).")
      .def("numpy",
           [](const py::object& self) {
             const Tensor& t = self.cast<const Tensor&>();
             tensor_buffer(t);  // raises the clear error (wrong device, bfloat16) up front
             return py::module_::import("numpy").attr("asarray")(self);
           },
           "A NumPy view of a CPU tensor (no copy). np.asarray(t) works too, but turns "
           "an unsupported buffer into an object array instead of raising.")
      .def("numel", &Tensor::numel)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("contiguous", &Tensor::contiguous)
      .def("clone", &Tensor::clone)
      .def("to", [](const Tensor& t, const std::string& device) { return t.to(parse_device(device)); },
           py::arg("device"))
      .def("__dlpack__",
           [](const Tensor& t, py::object stream, py::object max_version, py::object dl_device, py::object copy) {
             BENCHSUITE_CHECK_ARG(copy.is_none() || !copy.cast<bool>(),
                                  "__dlpack__: copy=True is not supported (benchsuite exports without copies)");
             return to_dlpack(t, stream);
           },
           py::arg("stream") = py::none(), py::kw_only(), py::arg("max_version") = py::none(),
           py::arg("dl_device") = py::none(), py::arg("copy") = py::none())
      .def("__dlpack_device__",
           [](const Tensor& t) {
             return py::make_tuple(t.device().is_cuda() ? static_cast<int>(kDLCUDA) : static_cast<int>(kDLCPU),
                                   t.device().index);
           })
      .def("__len__", [](const Tensor& t) { return t.ndim() ? t.shape()[0] : 0; })
      .def("__repr__", [](const Tensor& t) { return "<benchsuite.Tensor " + t.describe() + ">"; })
      .def_static("from_numpy", [](const py::buffer& b) { return from_buffer(b, "array"); }, py::arg("array"),
                  "Views a NumPy array (or any buffer) without copying.");

  m.def("from_dlpack", &from_dlpack_object, py::arg("obj"),
        "Views a DLPack producer (torch/cupy/numpy array, or a capsule) without copying.");
  m.def("as_tensor", [](const py::object& obj) { return as_tensor(obj, "x"); }, py::arg("obj"),
        "bs.Tensor from a Tensor, a CUDA DLPack producer or a buffer, without copying.");
  m.def("empty",
        [](const Shape& shape, const std::string& dtype, const std::string& device) {
          return Tensor::empty(shape, parse_dtype(dtype), parse_device(device));
        },
        py::arg("shape"), py::arg("dtype") = "float32", py::arg("device") = "cpu");
}

}  // namespace benchsuite::bindings
