// Construction of benchsuite::Error: the message gets the source location appended so a
// Python traceback shows where in the native core the check fired.
#include "core/error.h"

#include <cstring>

namespace benchsuite {

namespace {
// Keep the path from "csrc/" on: absolute build paths say nothing useful to a user.
std::string short_path(const char* file) {
  const char* found = std::strstr(file, "csrc/");
  return found ? std::string(found) : std::string(file);
}
}  // namespace

Error::Error(ErrorKind kind, const std::string& message, const char* file, int line,
             std::string reason)
    : std::runtime_error(message + " [" + short_path(file) + ":" + std::to_string(line) + "]"),
      kind_(kind),
      reason_(std::move(reason)),
      message_(message),
      file_(short_path(file)),
      line_(line) {}

namespace detail {
void throw_error(ErrorKind kind, const char* file, int line, const std::string& message,
                 const std::string& reason) {
  throw Error(kind, message, file, line, reason);
}
}  // namespace detail

}  // namespace benchsuite
