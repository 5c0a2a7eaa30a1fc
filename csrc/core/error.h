// The one throwing error family of the native core. Every failure becomes a
// benchsuite::Error carrying its kind, the source location and a message that names the
// bad argument; the bindings turn each kind into a Python exception class.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace benchsuite {

enum class ErrorKind {
  internal,          // a broken invariant inside benchsuite
  invalid_argument,  // bad value, dtype, shape or device passed by the caller
  unsupported,       // a valid request this build or machine cannot serve
  cuda_unavailable,  // CUDA asked for but not built in, no driver, or no device
  cuda,              // a CUDA runtime or cuBLAS call failed
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, const char* file, int line,
        std::string reason = "");
  ErrorKind kind() const { return kind_; }
  // Machine-readable code (e.g. "unsupported_dtype", "no_cuda"); empty when none.
  const std::string& reason() const { return reason_; }
  const std::string& file() const { return file_; }
  // The message without the source location that what() appends.
  const std::string& message() const { return message_; }
  int line() const { return line_; }

 private:
  ErrorKind kind_;
  std::string reason_;
  std::string message_;
  std::string file_;
  int line_;
};

namespace detail {
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
[[noreturn]] void throw_error(ErrorKind kind, const char* file, int line, const std::string& message,
                              const std::string& reason = "");
}  // namespace detail

}  // namespace benchsuite

// Internal invariant: a failure here is a bug in benchsuite.
#define BENCHSUITE_CHECK(cond, ...)                                                              \
  do {                                                                                          \
    if (!(cond))                                                                                \
      ::benchsuite::detail::throw_error(::benchsuite::ErrorKind::internal, __FILE__, __LINE__,   \
                                        ::benchsuite::detail::str_cat("check failed: " #cond ": ", \
                                                                      __VA_ARGS__));            \
  } while (0)

// Caller error: the message must name the argument and the value it got.
#define BENCHSUITE_CHECK_ARG(cond, ...)                                                          \
  do {                                                                                          \
    if (!(cond))                                                                                \
      ::benchsuite::detail::throw_error(::benchsuite::ErrorKind::invalid_argument, __FILE__,     \
                                        __LINE__, ::benchsuite::detail::str_cat(__VA_ARGS__));  \
  } while (0)

#define BENCHSUITE_THROW_ARG(...)                                                                \
  ::benchsuite::detail::throw_error(::benchsuite::ErrorKind::invalid_argument, __FILE__, __LINE__, \
                                    ::benchsuite::detail::str_cat(__VA_ARGS__))

// A valid request that cannot be served here; reason is a machine-readable skip code.
#define BENCHSUITE_UNSUPPORTED(reason, ...)                                                      \
  ::benchsuite::detail::throw_error(::benchsuite::ErrorKind::unsupported, __FILE__, __LINE__,    \
                                    ::benchsuite::detail::str_cat(__VA_ARGS__), reason)
