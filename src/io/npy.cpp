#include "io/npy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <system_error>

#include "io/atomic_file.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

// '<f4' promises little-endian floats, and the data is written straight from memory.
static_assert(std::endian::native == std::endian::little, "write_npy assumes a little-endian host");

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  // Python needs the trailing comma to read a one-element tuple as a tuple.
  if (shape.size() == 1) out += ",";
  return out + ")";
}

uint64_t element_count(const std::filesystem::path& path, const std::vector<int64_t>& shape) {
  uint64_t numel = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || __builtin_mul_overflow(numel, static_cast<uint64_t>(dim), &numel)) {
      fail(path, "cannot write a tensor of shape " + shape_tuple(shape));
    }
  }
  return numel;
}

void check_shape(const std::filesystem::path& path, const Tensor& tensor) {
  if (element_count(path, tensor.shape) != tensor.data.size()) {
    fail(path, "cannot write a tensor of shape " + shape_tuple(tensor.shape) + " holding " +
                   std::to_string(tensor.data.size()) + " values");
  }
}

// Magic, version 1.0, header length, then a Python dict literal padded with spaces and ended by a
// newline so that the data starts on a 64-byte boundary, as the format recommends.
std::string npy_header(const std::filesystem::path& path, const std::vector<int64_t>& shape) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  constexpr size_t preamble = 10;  // magic (6) + version (2) + header length (2)
  const size_t unpadded = preamble + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  if (dict.size() > 0xffff) fail(path, "shape has too many dimensions for the .npy 1.0 format");

  std::string header = "\x93NUMPY";
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>((dict.size() >> 8) & 0xff);
  return header + dict;
}

}  // namespace

NpyWriter::NpyWriter(const std::filesystem::path& path, const std::vector<int64_t>& shape)
    : path_(path), file_(path), expected_(element_count(path, shape)) {
  const std::string header = npy_header(path, shape);
  file_.write(header.data(), header.size());
}

void NpyWriter::advance(size_t values) {
  if (values > expected_ - written_) {
    fail(path_, "more values written than the shape holds (" + std::to_string(expected_) + ")");
  }
  written_ += values;
}

void NpyWriter::write(const float* values, size_t count) {
  advance(count);
  file_.write(values, count * sizeof(float));
}

void NpyWriter::write_zeros(size_t count) {
  advance(count);
  static constexpr float zeros[4096] = {};
  while (count > 0) {
    const size_t n = std::min(count, std::size(zeros));
    file_.write(zeros, n * sizeof(float));
    count -= n;
  }
}

void NpyWriter::commit() {
  if (written_ != expected_) {
    fail(path_, std::to_string(written_) + " values written, the shape holds " +
                    std::to_string(expected_));
  }
  file_.commit();
}

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  check_shape(path, tensor);
  NpyWriter file(path, tensor.shape);
  file.write(tensor.data.data(), tensor.data.size());
  file.commit();
}

}  // namespace vecformer::detail
