#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "io/npy.hpp"
#include "support/temp_path.hpp"
#include "vecformer/error.hpp"
#include "vecformer/tensor.hpp"

namespace {

using vecformer::test::TempPath;

using vecformer::Tensor;
using vecformer::detail::NpyWriter;
using vecformer::detail::write_npy;

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.is_open());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct NpyFile {
  std::string header;  // the dict text, padding and newline included
  std::vector<float> data;
};

// Parses the fixed part of a version 1.0 file and checks the layout rules on the way.
NpyFile parse_npy(const std::string& bytes) {
  REQUIRE(bytes.size() >= 10);
  CHECK(bytes.substr(0, 6) == "\x93NUMPY");
  CHECK(bytes[6] == '\x01');
  CHECK(bytes[7] == '\x00');
  const size_t header_length = static_cast<size_t>(static_cast<unsigned char>(bytes[8])) |
                               (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  REQUIRE(bytes.size() >= 10 + header_length);
  CHECK((10 + header_length) % 64 == 0);
  NpyFile file;
  file.header = bytes.substr(10, header_length);
  CHECK(file.header.back() == '\n');
  const size_t data_bytes = bytes.size() - 10 - header_length;
  REQUIRE(data_bytes % 4 == 0);
  file.data.resize(data_bytes / 4);
  if (data_bytes > 0) std::memcpy(file.data.data(), bytes.data() + 10 + header_length, data_bytes);
  return file;
}

// Names in `dir` that start with `prefix`: leftovers of a temporary file would show up here.
std::vector<std::string> entries_starting_with(const std::filesystem::path& dir,
                                               const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix)) names.push_back(name);
  }
  return names;
}

}  // namespace

TEST_CASE("npy: a 2-D tensor round trips", "[io][npy]") {
  TempPath dir("npy-dir");
  std::filesystem::create_directory(dir.path());
  const auto path = dir.path() / "out.npy";
  const Tensor tensor{{2, 3}, {1.0f, -2.0f, 0.5f, 1e-7f, 3.25f, -0.0f}};
  write_npy(path, tensor);

  const NpyFile file = parse_npy(read_bytes(path));
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  CHECK(file.header.starts_with(dict));
  // Only padding between the dict and the newline.
  CHECK(file.header.find_first_not_of(' ', dict.size()) == file.header.size() - 1);
  CHECK(file.data == tensor.data);
  // Nothing but the result is left in the folder.
  CHECK(entries_starting_with(dir.path(), "") == std::vector<std::string>{"out.npy"});
}

TEST_CASE("npy: shape tuples for 1-D, 0-D, empty and 3-D tensors", "[io][npy]") {
  TempPath file("shape.npy");
  SECTION("1-D has a trailing comma") {
    write_npy(file.path(), Tensor{{3}, {1, 2, 3}});
    const NpyFile npy = parse_npy(read_bytes(file.path()));
    CHECK_THAT(npy.header, Catch::Contains("'shape': (3,), }"));
    CHECK(npy.data == std::vector<float>{1, 2, 3});
  }
  SECTION("0-D") {
    write_npy(file.path(), Tensor{{}, {42}});
    const NpyFile npy = parse_npy(read_bytes(file.path()));
    CHECK_THAT(npy.header, Catch::Contains("'shape': (), }"));
    CHECK(npy.data == std::vector<float>{42});
  }
  SECTION("empty") {
    write_npy(file.path(), Tensor{{0, 4}, {}});
    const NpyFile npy = parse_npy(read_bytes(file.path()));
    CHECK_THAT(npy.header, Catch::Contains("'shape': (0, 4), }"));
    CHECK(npy.data.empty());
  }
  SECTION("3-D, larger than one header block") {
    Tensor tensor{{2, 5, 7}, std::vector<float>(70)};
    for (size_t i = 0; i < tensor.data.size(); ++i) tensor.data[i] = static_cast<float>(i) / 8;
    write_npy(file.path(), tensor);
    const NpyFile npy = parse_npy(read_bytes(file.path()));
    CHECK_THAT(npy.header, Catch::Contains("'shape': (2, 5, 7), }"));
    CHECK(npy.data == tensor.data);
  }
}

TEST_CASE("npy: an existing file is replaced", "[io][npy]") {
  TempPath file("replace.npy");
  write_npy(file.path(), Tensor{{4}, {1, 2, 3, 4}});
  write_npy(file.path(), Tensor{{1}, {9}});
  CHECK(parse_npy(read_bytes(file.path())).data == std::vector<float>{9});
}

TEST_CASE("npy: failures throw, name the path and leave nothing behind", "[io][npy]") {
  SECTION("the folder does not exist") {
    TempPath dir("npy-missing");
    const auto path = dir.path() / "out.npy";
    REQUIRE_THROWS_AS(write_npy(path, Tensor{{1}, {1}}), vecformer::Error);
    REQUIRE_THROWS_WITH(write_npy(path, Tensor{{1}, {1}}),
                        Catch::Contains(path.string() + ": cannot create"));
    CHECK_FALSE(std::filesystem::exists(dir.path()));
  }
  SECTION("the target is a folder, so the final rename fails") {
    TempPath dir("npy-parent");
    std::filesystem::create_directory(dir.path());
    const auto path = dir.path() / "out.npy";
    std::filesystem::create_directory(path);
    REQUIRE_THROWS_WITH(write_npy(path, Tensor{{2}, {1, 2}}),
                        Catch::Contains(path.string() + ": cannot rename"));
    // The temporary file was removed; only the folder that blocked the rename remains.
    CHECK(entries_starting_with(dir.path(), "") == std::vector<std::string>{"out.npy"});
    CHECK(std::filesystem::is_directory(path));
  }
  SECTION("shape and data disagree") {
    TempPath dir("npy-shape");
    std::filesystem::create_directory(dir.path());
    const auto path = dir.path() / "out.npy";
    REQUIRE_THROWS_WITH(
        write_npy(path, Tensor{{2, 2}, {1, 2, 3}}),
        Catch::Contains(path.string()) && Catch::Contains("shape (2, 2) holding 3 values"));
    REQUIRE_THROWS_WITH(write_npy(path, Tensor{{-1}, {}}), Catch::Contains("shape (-1,)"));
    CHECK(std::filesystem::is_empty(dir.path()));
  }
}

TEST_CASE("npy: a file streamed piece by piece equals the whole tensor written at once",
          "[io][npy]") {
  TempPath dir("npy-stream");
  std::filesystem::create_directory(dir.path());
  const Tensor tensor{{2, 3, 2}, {1, 2, 3, 4, 0, 0, 5, 6, 0, 0, 0, 0}};
  write_npy(dir.path() / "whole.npy", tensor);
  {
    NpyWriter writer(dir.path() / "streamed.npy", tensor.shape);
    writer.write(tensor.data.data(), 4);
    writer.write_zeros(2);
    writer.write(tensor.data.data() + 6, 2);
    writer.write_zeros(4);
    writer.commit();
  }
  CHECK(read_bytes(dir.path() / "streamed.npy") == read_bytes(dir.path() / "whole.npy"));

  // Too few values, or too many, is an error that leaves nothing behind.
  {
    NpyWriter short_file(dir.path() / "short.npy", {2, 2});
    short_file.write(tensor.data.data(), 3);
    CHECK_THROWS_WITH(short_file.commit(), Catch::Contains("3 values written, the shape holds 4"));
  }
  {
    NpyWriter long_file(dir.path() / "long.npy", {2});
    CHECK_THROWS_WITH(long_file.write_zeros(3), Catch::Contains("more values written"));
  }
  std::vector<std::string> left = entries_starting_with(dir.path(), "");
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{"streamed.npy", "whole.npy"});
}
