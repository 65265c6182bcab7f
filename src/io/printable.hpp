#pragma once

#include <cstddef>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vecformer::detail {

// Text from an input file as it may appear in an error message: printable ASCII as it is, every
// other byte as \xNN, and at most max_length bytes of the original (then "..."). A hostile file can
// then put neither terminal escape sequences, NULs nor invalid UTF-8 into the one-line message
// (nor, from there, into a terminal or a log), nor make the message megabytes long.
inline std::string printable(std::string_view text, size_t max_length = 60) {
  const bool cut = text.size() > max_length;
  if (cut) text = text.substr(0, max_length);
  std::string out;
  out.reserve(text.size() + 3);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(c);
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      out += escaped;
    }
  }
  if (cut) out += "...";
  return out;
}

namespace printable_internal {

inline void append_string(std::string_view text, size_t limit, std::string& out) {
  // Only the part that can be shown is escaped: a string in the file may be megabytes long.
  out += nlohmann::json(std::string(text.substr(0, limit)))
             .dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

// nlohmann's compact dump(), written out only as far as `limit` characters and `limit` levels deep:
// dump() itself recurses once per nesting level, and a file of a few megabytes of '[' nests deep
// enough to overflow the stack.
inline void append_json(const nlohmann::json& value, size_t limit, size_t depth, std::string& out) {
  if (out.size() > limit) return;
  if (depth > limit) {
    out += "...";
    return;
  }
  if (value.is_array() || value.is_object()) {
    const bool array = value.is_array();
    out += array ? '[' : '{';
    bool first = true;
    for (auto it = value.begin(); it != value.end() && out.size() <= limit; ++it) {
      if (!first) out += ',';
      first = false;
      if (!array) {
        append_string(it.key(), limit, out);
        out += ':';
      }
      append_json(*it, limit, depth + 1, out);
    }
    out += array ? ']' : '}';
  } else if (value.is_string()) {
    append_string(value.get_ref<const std::string&>(), limit, out);
  } else {
    out += value.dump();  // a number, a boolean or null: short
  }
}

}  // namespace printable_internal

// A JSON value in an error message: its compact JSON text (as nlohmann's dump()) with every
// non-ASCII character escaped (\uXXXX), cut to max_length as above; built only as far as it is
// shown.
inline std::string printable_json(const nlohmann::json& value, size_t max_length = 60) {
  std::string text;
  printable_internal::append_json(value, max_length, 0, text);
  return printable(text, max_length);
}

}  // namespace vecformer::detail
