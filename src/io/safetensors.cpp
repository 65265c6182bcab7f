#include "io/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "io/json_message.hpp"
#include "io/printable.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

using nlohmann::json;

// The same bound as the reference safetensors reader: a header this large is corrupt, not a model.
constexpr uint64_t max_header_bytes = 100'000'000;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

// Names come from the file: long enough for any real tensor name, escaped and bounded.
std::string in_quotes(std::string_view name) {
  return "'" + printable(name, 200) + "'";
}

std::optional<DType> parse_dtype(std::string_view text) {
  if (text == "F32") return DType::f32;
  if (text == "F16") return DType::f16;
  if (text == "BF16") return DType::bf16;
  return std::nullopt;
}

// At most 16 dimensions: a header may give a shape thousands of entries long, and the message stays
// one readable line.
std::string format_shape(const std::vector<int64_t>& shape) {
  constexpr size_t max_shown = 16;
  std::string out = "[";
  for (size_t i = 0; i < std::min(shape.size(), max_shown); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() > max_shown) out += ", ... (" + std::to_string(shape.size()) + " dimensions)";
  return out + "]";
}

std::string format_range(uint64_t begin, uint64_t end) {
  return std::string("[")
      .append(std::to_string(begin))
      .append(", ")
      .append(std::to_string(end))
      .append("]");
}

// A tensor's byte range relative to the start of the data section, kept only while validating.
struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;
  const std::string* name = nullptr;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

DType read_dtype(const std::filesystem::path& path, const std::string& name, const json& entry) {
  const auto it = entry.find("dtype");
  if (it == entry.end()) fail(path, "tensor " + in_quotes(name) + " has no dtype");
  if (!it->is_string()) {
    fail(path, "tensor " + in_quotes(name) + " dtype must be a string, got " + printable_json(*it));
  }
  const auto& text = it->get_ref<const std::string&>();
  const std::optional<DType> dtype = parse_dtype(text);
  if (!dtype) {
    fail(path, "tensor " + in_quotes(name) + " has unsupported dtype " + printable(text) +
                   " (supported: F32, F16, BF16)");
  }
  return *dtype;
}

std::vector<int64_t> read_shape(const std::filesystem::path& path, const std::string& name,
                                const json& entry) {
  const auto it = entry.find("shape");
  if (it == entry.end()) fail(path, "tensor " + in_quotes(name) + " has no shape");
  const auto fail_shape = [&] {
    fail(path, "tensor " + in_quotes(name) +
                   " shape must be an array of non-negative integers, got " + printable_json(*it));
  };
  if (!it->is_array()) fail_shape();
  std::vector<int64_t> shape;
  shape.reserve(it->size());
  // nlohmann stores every non-negative JSON integer as unsigned, so "unsigned" is exactly the
  // non-negative integers (floats, booleans and negative numbers all fall outside it).
  for (const json& dim : *it) {
    if (!dim.is_number_unsigned()) fail_shape();
    const auto value = dim.get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(path, "tensor " + in_quotes(name) + " shape " + printable_json(*it) + " is too large");
    }
    shape.push_back(static_cast<int64_t>(value));
  }
  return shape;
}

Range read_offsets(const std::filesystem::path& path, const std::string& name, const json& entry) {
  const auto it = entry.find("data_offsets");
  if (it == entry.end()) fail(path, "tensor " + in_quotes(name) + " has no data_offsets");
  if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number_unsigned() ||
      !(*it)[1].is_number_unsigned()) {
    fail(path, "tensor " + in_quotes(name) +
                   " data_offsets must be two non-negative integers [begin, end], got " +
                   printable_json(*it));
  }
  return Range{(*it)[0].get<uint64_t>(), (*it)[1].get<uint64_t>(), nullptr};
}

void check_metadata(const std::filesystem::path& path, const json& metadata) {
  if (!metadata.is_object()) {
    fail(path, "__metadata__ must be an object of strings, got " + printable_json(metadata));
  }
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) {
      fail(path, "__metadata__ field " + in_quotes(key) + " must be a string, got " +
                     printable_json(value));
    }
  }
}

json parse_header(const std::filesystem::path& path, const char* begin, const char* end) {
  // nlohmann keeps the last of two equal keys; a duplicated tensor name means a corrupt header,
  // so the top-level keys are collected during the parse.
  std::set<std::string> seen;
  std::optional<std::string> duplicate;
  const json::parser_callback_t remember_keys = [&](int depth, json::parse_event_t event,
                                                    json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && !duplicate) {
      auto key = parsed.get<std::string>();
      if (!seen.insert(key).second) duplicate = std::move(key);
    }
    return true;
  };
  json header;
  try {
    header = json::parse(begin, end, remember_keys);
  } catch (const json::exception& e) {
    fail(path, "header is not valid JSON: " + json_message(e));
  }
  if (!header.is_object())
    fail(path, std::string("header must be a JSON object, got ") + header.type_name());
  if (duplicate) fail(path, "header names tensor " + in_quotes(*duplicate) + " more than once");
  return header;
}

uint64_t read_le64(const std::byte* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | std::to_integer<uint64_t>(bytes[i]);
  return value;
}

uint16_t read_u16(const std::byte* bytes) {
  uint16_t value;
  std::memcpy(&value, bytes, sizeof value);
  return value;
}

}  // namespace

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f16:
    case DType::bf16:
      return 2;
  }
  return 0;  // unreachable for valid enumerators
}

std::string_view to_string(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f16:
      return "F16";
    case DType::bf16:
      return "BF16";
  }
  return "unknown";
}

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa × 2^-24, exact in float32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) {
    // Infinity or NaN; shifting the mantissa keeps the NaN payload and its quiet bit.
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  }
  // Rebias the exponent from 15 to 127.
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

float bf16_to_float(uint16_t bits) {
  // bfloat16 is the upper half of a float32.
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile file;
  file.path_ = path;

  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    fail(path, std::string("cannot stat: ") + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) fail(path, "not a regular file");
  const auto file_size = static_cast<uint64_t>(info.st_size);
  if (file_size < 8) {
    fail(path,
         "file is " + std::to_string(file_size) + " bytes, too short for the 8-byte header length");
  }

  void* mapping = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (mapping == MAP_FAILED) fail(path, std::string("cannot mmap: ") + std::strerror(errno));
  // From here on the destructor of `file` unmaps if validation throws.
  file.mapping_ = mapping;
  file.mapping_size_ = file_size;
  const auto* bytes = static_cast<const std::byte*>(mapping);

  const uint64_t header_size = read_le64(bytes);
  if (header_size > max_header_bytes) {
    fail(path, "header length " + std::to_string(header_size) + " is more than the limit of " +
                   std::to_string(max_header_bytes) + " bytes");
  }
  if (header_size > file_size - 8) {
    fail(path, "header length " + std::to_string(header_size) + " runs past the end of the file (" +
                   std::to_string(file_size) + " bytes)");
  }
  const auto* header_begin = reinterpret_cast<const char*>(bytes + 8);
  const json header = parse_header(path, header_begin, header_begin + header_size);

  const std::byte* data = bytes + 8 + header_size;
  const uint64_t data_size = file_size - 8 - header_size;

  std::vector<Range> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      check_metadata(path, entry);
      continue;
    }
    if (!entry.is_object()) {
      fail(path,
           "tensor " + in_quotes(name) + " entry must be an object, got " + printable_json(entry));
    }
    TensorEntry tensor;
    tensor.name = name;
    tensor.dtype = read_dtype(path, name, entry);
    tensor.shape = read_shape(path, name, entry);
    const Range range = read_offsets(path, name, entry);

    int64_t numel = 1;
    for (int64_t dim : tensor.shape) {
      if (__builtin_mul_overflow(numel, dim, &numel)) {
        fail(path, "tensor " + in_quotes(name) + " shape " + format_shape(tensor.shape) +
                       " has more elements than fit in 64 bits");
      }
    }
    uint64_t expected_bytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(numel), dtype_size(tensor.dtype),
                               &expected_bytes)) {
      fail(path, "tensor " + in_quotes(name) + " shape " + format_shape(tensor.shape) +
                     " has more bytes than fit in 64 bits");
    }

    if (range.begin > range.end) {
      fail(path, "tensor " + in_quotes(name) + " data_offsets " +
                     format_range(range.begin, range.end) + " run backwards");
    }
    if (range.end > data_size) {
      fail(path,
           "tensor " + in_quotes(name) + " data_offsets " + format_range(range.begin, range.end) +
               " run past the end of the data section (" + std::to_string(data_size) + " bytes)");
    }
    if (range.end - range.begin != expected_bytes) {
      fail(path, "tensor " + in_quotes(name) + " has " + std::to_string(range.end - range.begin) +
                     " bytes but shape " + format_shape(tensor.shape) + " of " +
                     std::string(to_string(tensor.dtype)) + " needs " +
                     std::to_string(expected_bytes));
    }

    tensor.data = data + range.begin;
    tensor.size_bytes = static_cast<size_t>(expected_bytes);
    file.tensors_.push_back(std::move(tensor));
    ranges.push_back(range);
  }

  // Names point into file.tensors_, which no longer grows.
  for (size_t i = 0; i < ranges.size(); ++i) ranges[i].name = &file.tensors_[i].name;
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  // Empty tensors occupy no bytes, so they cannot overlap anything even when their offset lies
  // inside another tensor; only non-empty ones are compared with the furthest end seen so far.
  const Range* furthest = nullptr;
  for (const Range& range : ranges) {
    if (range.begin == range.end) continue;
    if (furthest && range.begin < furthest->end) {
      fail(path, "tensors " + in_quotes(*furthest->name) + " " +
                     format_range(furthest->begin, furthest->end) + " and " +
                     in_quotes(*range.name) + " " + format_range(range.begin, range.end) +
                     " overlap");
    }
    if (!furthest || range.end > furthest->end) furthest = &range;
  }

  std::sort(file.tensors_.begin(), file.tensors_.end(),
            [](const TensorEntry& a, const TensorEntry& b) { return a.name < b.name; });
  return file;
}

const TensorEntry* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const TensorEntry& entry, std::string_view key) { return entry.name < key; });
  if (it == tensors_.end() || it->name != name) return nullptr;
  return &*it;
}

void SafetensorsFile::release(const TensorEntry& entry) const {
  release_mapped(entry.data, entry.size_bytes);
}

void SafetensorsFile::release_mapped(const void* data, size_t bytes) {
  if (bytes == 0) return;
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  // Whole pages, rounded outward: a neighbour's bytes on a shared page are simply read again from
  // the file if they are touched later (the mapping is read-only, so nothing is lost).
  const auto begin = reinterpret_cast<uintptr_t>(data) & ~(page - 1);
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes + page - 1) & ~(page - 1);
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void SafetensorsFile::prefault(const TensorEntry& entry) {
  if (entry.size_bytes == 0) return;
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(entry.data) & ~(page - 1);
  const auto end = reinterpret_cast<uintptr_t>(entry.data) + entry.size_bytes;
  // Best effort (Linux 5.14+): an older kernel says EINVAL and the reads fault page by page.
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
}

const float* SafetensorsFile::f32_view(const TensorEntry& entry) const {
  if (entry.dtype != DType::f32 || reinterpret_cast<uintptr_t>(entry.data) % alignof(float) != 0) {
    return nullptr;
  }
  prefault(entry);
  return reinterpret_cast<const float*>(entry.data);
}

std::vector<float> SafetensorsFile::to_float(const TensorEntry& entry) const {
  const size_t count = entry.size_bytes / dtype_size(entry.dtype);
  prefault(entry);
  // Each value is written once: a zero-filled vector would touch (and page-fault) every page twice.
  if (const float* aligned = f32_view(entry)) return std::vector<float>(aligned, aligned + count);
  std::vector<float> out;
  out.reserve(count);
  // The data section starts right after a header of arbitrary length, so it may not be aligned.
  switch (entry.dtype) {
    case DType::f32:
      out.resize(count);
      if (count > 0) std::memcpy(out.data(), entry.data, entry.size_bytes);
      break;
    case DType::f16:
      for (size_t i = 0; i < count; ++i) out.push_back(half_to_float(read_u16(entry.data + 2 * i)));
      break;
    case DType::bf16:
      for (size_t i = 0; i < count; ++i) out.push_back(bf16_to_float(read_u16(entry.data + 2 * i)));
      break;
  }
  return out;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_size_(std::exchange(other.mapping_size_, 0)),
      tensors_(std::move(other.tensors_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this != &other) {
    if (mapping_) ::munmap(mapping_, mapping_size_);
    path_ = std::move(other.path_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_size_ = std::exchange(other.mapping_size_, 0);
    tensors_ = std::move(other.tensors_);
  }
  return *this;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_) ::munmap(mapping_, mapping_size_);
}

}  // namespace vecformer::detail
