#include "io/npy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <system_error>

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

void check_shape(const std::filesystem::path& path, const Tensor& tensor) {
  uint64_t numel = 1;
  for (int64_t dim : tensor.shape) {
    if (dim < 0 || __builtin_mul_overflow(numel, static_cast<uint64_t>(dim), &numel)) {
      fail(path, "cannot write a tensor of shape " + shape_tuple(tensor.shape));
    }
  }
  if (numel != tensor.data.size()) {
    fail(path, "cannot write a tensor of shape " + shape_tuple(tensor.shape) + " holding " +
                   std::to_string(tensor.data.size()) + " values");
  }
}

// Magic, version 1.0, header length, then a Python dict literal padded with spaces and ended by a
// newline so that the data starts on a 64-byte boundary, as the format recommends.
std::string npy_header(const std::filesystem::path& path, const Tensor& tensor) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_tuple(tensor.shape) + ", }";
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

// A file created next to the target and renamed over it on commit; removed if never committed.
class TempFile {
 public:
  explicit TempFile(const std::filesystem::path& target) : target_(target) {
    std::random_device random;
    const uint64_t tag = (static_cast<uint64_t>(random()) << 32) ^ random();
    char suffix[64];
    std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%016llx", static_cast<long>(::getpid()),
                  static_cast<unsigned long long>(tag));
    temp_ = target.string() + suffix;
    // O_EXCL: never write through a file (or symlink) that someone else put there.
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) fail(target_, std::string("cannot create: ") + std::strerror(errno));
  }

  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }

  void write(const void* data, size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t written = ::write(fd_, bytes, size);
      if (written < 0) {
        if (errno == EINTR) continue;
        fail(target_, std::string("cannot write: ") + std::strerror(errno));
      }
      bytes += written;
      size -= static_cast<size_t>(written);
    }
  }

  void commit() {
    // fsync before rename, or a crash could leave the new name pointing at an empty file.
    if (::fsync(fd_) != 0) fail(target_, std::string("cannot write: ") + std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(target_, std::string("cannot write: ") + std::strerror(errno));
    std::error_code ec;
    std::filesystem::rename(temp_, target_, ec);
    if (ec) fail(target_, "cannot rename the finished file into place: " + ec.message());
    committed_ = true;
  }

 private:
  std::filesystem::path target_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  check_shape(path, tensor);
  const std::string header = npy_header(path, tensor);
  TempFile file(path);
  file.write(header.data(), header.size());
  file.write(tensor.data.data(), tensor.data.size() * sizeof(float));
  file.commit();
}

}  // namespace vecformer::detail
