#pragma once

#include <stdexcept>
#include <string>

namespace vecformer {

// Every problem with input that vecformer reads (model folders, token files, options) is reported as an
// Error whose message names the file and the line, field or tensor at fault. The engine behind the
// validating edge does not throw.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace vecformer
