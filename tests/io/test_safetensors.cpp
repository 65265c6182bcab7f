#include <unistd.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "io/safetensors.hpp"
#include "support/temp_path.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::test::TempPath;

using vecformer::detail::DType;
using vecformer::detail::SafetensorsFile;

void write_raw(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string le64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// The layout of a .safetensors file: header length (u64 LE), JSON header, data section.
void write_safetensors(const std::filesystem::path& path, const std::string& header,
                       const std::string& data) {
  write_raw(path, le64(header.size()) + header + data);
}

std::string f32_bytes(const std::vector<float>& values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::string u16_bytes(const std::vector<uint16_t>& values) {
  std::string out;
  for (uint16_t v : values) {
    out += static_cast<char>(v & 0xff);
    out += static_cast<char>(v >> 8);
  }
  return out;
}

// Opens a file with `header` and `data` and requires a vecformer::Error naming the file and
// `needle`.
void require_rejected(const std::string& header, const std::string& data,
                      const std::string& needle) {
  TempPath file("reject.safetensors");
  write_safetensors(file.path(), header, data);
  INFO("header: " << header);
  REQUIRE_THROWS_AS(SafetensorsFile::open(file.path()), vecformer::Error);
  REQUIRE_THROWS_WITH(SafetensorsFile::open(file.path()),
                      Catch::Contains(file.path().string() + ": ") && Catch::Contains(needle));
}

}  // namespace

TEST_CASE("safetensors: F32, F16 and BF16 tensors read back exactly", "[io][safetensors]") {
  TempPath file("valid.safetensors");
  const std::vector<float> f32 = {1.0f, -2.5f, 3.0f, 0.125f, 1e-30f, -0.0f};
  const std::vector<uint16_t> f16 = {
      0x3C00,  // 1.0
      0xC000,  // -2.0
      0x0001,  // smallest subnormal, 2^-24
      0x03FF,  // largest subnormal, 1023 × 2^-24
      0x0400,  // smallest normal, 2^-14
      0x7BFF,  // largest finite, 65504
      0x7C00,  // +inf
      0xFC00,  // -inf
      0x7E00,  // NaN
      0x8000,  // -0.0
  };
  const std::vector<uint16_t> bf16 = {0x3F80, 0xC040, 0x7F80, 0x0001};  // 1, -3, inf, 2^-133
  const std::string data = f32_bytes(f32) + u16_bytes(f16) + u16_bytes(bf16);
  // An odd header length leaves every tensor misaligned in the mapping; to_float must cope.
  std::string header =
      R"({"__metadata__": {"format": "pt"},)"
      R"( "weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},)"
      R"( "half": {"dtype": "F16", "shape": [10], "data_offsets": [24, 44]},)"
      R"( "brain": {"dtype": "BF16", "shape": [2, 1, 2], "data_offsets": [44, 52]} })";
  if (header.size() % 2 == 0) header += ' ';  // trailing blanks are allowed as header padding
  write_safetensors(file.path(), header, data);

  const SafetensorsFile st = SafetensorsFile::open(file.path());
  CHECK(st.path() == file.path());
  REQUIRE(st.tensors().size() == 3);
  CHECK(st.tensors()[0].name == "brain");
  CHECK(st.tensors()[1].name == "half");
  CHECK(st.tensors()[2].name == "weight");
  CHECK(st.find("__metadata__") == nullptr);
  CHECK(st.find("missing") == nullptr);
  CHECK(st.find("") == nullptr);
  CHECK(st.find("zzz") == nullptr);

  const auto* weight = st.find("weight");
  REQUIRE(weight != nullptr);
  CHECK(weight->dtype == DType::f32);
  CHECK(weight->shape == std::vector<int64_t>{2, 3});
  CHECK(weight->numel() == 6);
  CHECK(weight->size_bytes == 24);
  const std::vector<float> weight_values = st.to_float(*weight);
  REQUIRE(weight_values.size() == f32.size());
  for (size_t i = 0; i < f32.size(); ++i) {
    // Bit-exact: F32 is copied, not converted.
    CHECK(std::bit_cast<uint32_t>(weight_values[i]) == std::bit_cast<uint32_t>(f32[i]));
  }

  const auto* half = st.find("half");
  REQUIRE(half != nullptr);
  CHECK(half->dtype == DType::f16);
  CHECK(half->size_bytes == 20);
  const std::vector<float> h = st.to_float(*half);
  REQUIRE(h.size() == 10);
  // Every half value is exactly representable in float32, so the comparisons are exact.
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -2.0f);
  CHECK(h[2] == std::ldexp(1.0f, -24));
  CHECK(h[3] == std::ldexp(1023.0f, -24));
  CHECK(h[4] == std::ldexp(1.0f, -14));
  CHECK(h[5] == 65504.0f);
  CHECK(h[6] == std::numeric_limits<float>::infinity());
  CHECK(h[7] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(h[8]));
  CHECK(h[9] == 0.0f);
  CHECK(std::signbit(h[9]));

  const auto* brain = st.find("brain");
  REQUIRE(brain != nullptr);
  CHECK(brain->dtype == DType::bf16);
  CHECK(brain->shape == std::vector<int64_t>{2, 1, 2});
  const std::vector<float> b = st.to_float(*brain);
  REQUIRE(b.size() == 4);
  CHECK(b[0] == 1.0f);
  CHECK(b[1] == -3.0f);
  CHECK(b[2] == std::numeric_limits<float>::infinity());
  CHECK(b[3] == std::ldexp(1.0f, -133));
}

TEST_CASE("safetensors: half and bfloat16 widening", "[io][safetensors]") {
  using vecformer::detail::bf16_to_float;
  using vecformer::detail::half_to_float;
  CHECK(half_to_float(0x3C00) == 1.0f);
  CHECK(half_to_float(0x3555) == 0x1.554p-2f);  // nearest half to 1/3
  CHECK(half_to_float(0x8001) == -std::ldexp(1.0f, -24));
  CHECK(half_to_float(0x0200) == std::ldexp(1.0f, -15));
  CHECK(std::isnan(half_to_float(0x7C01)));  // signalling-pattern NaN stays NaN
  CHECK(bf16_to_float(0x3F80) == 1.0f);
  CHECK(bf16_to_float(0x4049) == 3.140625f);
  CHECK(std::isnan(bf16_to_float(0x7FC0)));
  CHECK(vecformer::detail::dtype_size(DType::f32) == 4);
  CHECK(vecformer::detail::dtype_size(DType::f16) == 2);
  CHECK(vecformer::detail::dtype_size(DType::bf16) == 2);
  CHECK(vecformer::detail::to_string(DType::bf16) == "BF16");
}

TEST_CASE("safetensors: scalars, empty tensors, empty files and moves", "[io][safetensors]") {
  TempPath file("edge.safetensors");
  const std::string header =
      R"({"scalar": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},)"
      R"( "empty": {"dtype": "F16", "shape": [0, 5], "data_offsets": [2, 2]}})";
  write_safetensors(file.path(), header, f32_bytes({7.5f}));

  SafetensorsFile st = SafetensorsFile::open(file.path());
  const auto* scalar = st.find("scalar");
  REQUIRE(scalar != nullptr);
  CHECK(scalar->shape.empty());
  CHECK(scalar->numel() == 1);
  CHECK(st.to_float(*scalar) == std::vector<float>{7.5f});
  const auto* empty = st.find("empty");
  REQUIRE(empty != nullptr);
  CHECK(empty->numel() == 0);
  CHECK(st.to_float(*empty).empty());

  SafetensorsFile moved(std::move(st));
  REQUIRE(moved.find("scalar") != nullptr);
  CHECK(moved.to_float(*moved.find("scalar")) == std::vector<float>{7.5f});

  TempPath other("other.safetensors");
  write_safetensors(other.path(), "{}", "");
  SafetensorsFile assigned = SafetensorsFile::open(other.path());
  CHECK(assigned.tensors().empty());
  assigned = std::move(moved);
  CHECK(assigned.path() == file.path());
  CHECK(assigned.to_float(*assigned.find("scalar")) == std::vector<float>{7.5f});
}

TEST_CASE("safetensors: broken files are rejected with the file and the reason",
          "[io][safetensors]") {
  SECTION("missing file") {
    TempPath file("missing.safetensors");
    REQUIRE_THROWS_WITH(SafetensorsFile::open(file.path()),
                        Catch::Contains(file.path().string() + ": cannot open"));
  }
  SECTION("a directory") {
    TempPath dir("dir.safetensors");
    std::filesystem::create_directory(dir.path());
    REQUIRE_THROWS_WITH(SafetensorsFile::open(dir.path()), Catch::Contains("not a regular file"));
  }
  SECTION("shorter than the length prefix") {
    TempPath file("short.safetensors");
    write_raw(file.path(), "abc");
    REQUIRE_THROWS_WITH(
        SafetensorsFile::open(file.path()),
        Catch::Contains(file.path().string()) && Catch::Contains("3 bytes, too short"));
  }
  SECTION("header length past the end of the file") {
    TempPath file("long.safetensors");
    write_raw(file.path(), le64(100) + "{}");
    REQUIRE_THROWS_WITH(SafetensorsFile::open(file.path()),
                        Catch::Contains("header length 100 runs past the end of the file"));
  }
  SECTION("header length over 100 MB") {
    TempPath file("huge.safetensors");
    write_raw(file.path(), le64(uint64_t{1} << 40) + "{}");
    REQUIRE_THROWS_WITH(SafetensorsFile::open(file.path()),
                        Catch::Contains("is more than the limit of 100000000 bytes"));
  }
  SECTION("header is not JSON") {
    require_rejected("{\"a\": ", "", "header is not valid JSON");
  }
  SECTION("header is not an object") {
    require_rejected("[1, 2]", "", "header must be a JSON object, got array");
  }
  SECTION("duplicate tensor names") {
    require_rejected(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                     R"( "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                     f32_bytes({1, 2}), "tensor 'w' more than once");
  }
  SECTION("__metadata__ not an object of strings") {
    require_rejected(R"({"__metadata__": [1]})", "", "__metadata__ must be an object of strings");
    require_rejected(R"({"__metadata__": {"format": 1}})", "",
                     "__metadata__ field 'format' must be a string");
  }
  SECTION("entry not an object") {
    require_rejected(R"({"encoder.w": [0, 4]})", "", "tensor 'encoder.w' entry must be an object");
  }
  SECTION("dtype") {
    require_rejected(R"({"x": {"shape": [1], "data_offsets": [0, 4]}})", f32_bytes({1}),
                     "tensor 'x' has no dtype");
    require_rejected(R"({"x": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}})", f32_bytes({1}),
                     "tensor 'x' dtype must be a string");
    require_rejected(R"({"x": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})",
                     std::string(8, '\0'), "tensor 'x' has unsupported dtype I64");
    require_rejected(R"({"x": {"dtype": "f32", "shape": [1], "data_offsets": [0, 4]}})",
                     f32_bytes({1}), "tensor 'x' has unsupported dtype f32");
  }
  SECTION("shape") {
    require_rejected(R"({"x": {"dtype": "F32", "data_offsets": [0, 4]}})", f32_bytes({1}),
                     "tensor 'x' has no shape");
    require_rejected(R"({"x": {"dtype": "F32", "shape": 1, "data_offsets": [0, 4]}})",
                     f32_bytes({1}), "tensor 'x' shape must be an array of non-negative integers");
    require_rejected(R"({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})",
                     f32_bytes({1}), "tensor 'x' shape must be an array of non-negative integers");
    require_rejected(R"({"x": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}})",
                     f32_bytes({1}), "tensor 'x' shape must be an array of non-negative integers");
    require_rejected(R"({"x": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})",
                     f32_bytes({1}), "tensor 'x' shape must be an array of non-negative integers");
    require_rejected(
        R"({"x": {"dtype": "F32", "shape": [18446744073709551615], "data_offsets": [0, 4]}})",
        f32_bytes({1}), "tensor 'x' shape [18446744073709551615] is too large");
  }
  SECTION("element count or byte count overflows") {
    require_rejected(
        R"({"x": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})",
        f32_bytes({1}), "tensor 'x' shape [4294967296, 4294967296] has more elements than fit");
    require_rejected(
        R"({"x": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 4]}})",
        f32_bytes({1}), "tensor 'x' shape [4611686018427387904] has more bytes than fit");
  }
  SECTION("data_offsets") {
    require_rejected(R"({"x": {"dtype": "F32", "shape": [1]}})", f32_bytes({1}),
                     "tensor 'x' has no data_offsets");
    require_rejected(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})",
                     f32_bytes({1}), "tensor 'x' data_offsets must be two non-negative integers");
    require_rejected(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})",
                     f32_bytes({1}), "tensor 'x' data_offsets must be two non-negative integers");
    require_rejected(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.0]}})",
                     f32_bytes({1}), "tensor 'x' data_offsets must be two non-negative integers");
    require_rejected(
        R"({"encoder.layer.0.x": {"dtype": "F32", "shape": [1], "data_offsets": [10, 4]}})",
        std::string(12, '\0'), "tensor 'encoder.layer.0.x' data_offsets [10, 4] run backwards");
    require_rejected(
        R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", f32_bytes({1}),
        "tensor 'x' data_offsets [0, 8] run past the end of the data section (4 bytes)");
  }
  SECTION("size differs from shape × dtype") {
    require_rejected(R"({"x": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 16]}})",
                     f32_bytes({1, 2, 3, 4}),
                     "tensor 'x' has 16 bytes but shape [2, 2] of F16 needs 8");
  }
  SECTION("overlapping tensors") {
    require_rejected(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                     R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                     f32_bytes({1, 2, 3}), "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
    // The overlap is with an earlier, longer tensor, not with the neighbour in sorted order.
    require_rejected(R"({"long": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},)"
                     R"( "mid": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},)"
                     R"( "tail": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}})",
                     f32_bytes({1, 2, 3, 4}), "tensors 'long' [0, 16] and 'mid' [4, 8] overlap");
  }
}

TEST_CASE("safetensors: an empty tensor inside another tensor's bytes is not an overlap",
          "[io][safetensors]") {
  TempPath file("empty-inside.safetensors");
  write_safetensors(file.path(),
                    R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                    R"( "none": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})",
                    f32_bytes({1, 2}));
  const SafetensorsFile st = SafetensorsFile::open(file.path());
  CHECK(st.tensors().size() == 2);
}
