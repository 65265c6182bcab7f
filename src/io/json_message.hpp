#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vecformer::detail {

// nlohmann's exception text without its "[json.exception.parse_error.101] " prefix: error lines
// name the file and what is wrong, not the parser's internal id. Escaped and bounded
// (io/printable.hpp).
std::string json_message(const nlohmann::json::exception& e);

}  // namespace vecformer::detail
