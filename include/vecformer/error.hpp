#pragma once

#include <stdexcept>
#include <string>

#include "vecformer/export.hpp"

namespace vecformer {

// Every problem with input that vecformer reads (model folders, token files, options) is reported
// as an Error whose message names the file and the line, field or tensor at fault. The engine
// behind the validating edge does not throw. Exported so that its type_info is the same object in
// the library and in its users, which catch it by type.
class VECFORMER_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace vecformer
