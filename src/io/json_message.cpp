#include "io/json_message.hpp"

#include <string_view>

#include "io/printable.hpp"

namespace vecformer::detail {

std::string json_message(const nlohmann::json::exception& e) {
  std::string_view text = e.what();
  if (text.starts_with("[json.exception.")) {
    const size_t end = text.find("] ");
    if (end != std::string_view::npos) text.remove_prefix(end + 2);
  }
  // The parser quotes what it last read, which can be long or hold any byte of the input.
  return printable(text, 300);
}

}  // namespace vecformer::detail
