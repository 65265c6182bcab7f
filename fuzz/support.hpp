#pragma once

// What the fuzz targets share: an in-memory file with a path, the property checks.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "vecformer/error.hpp"

namespace vecformer::fuzz {

// A violated property is a crash, so that libFuzzer saves the input.
inline void require(bool condition) {
  if (!condition) __builtin_trap();
}

// Every error message is one line of printable ASCII (the input's bytes are escaped, so a hostile
// file cannot write terminal escapes, NULs or invalid UTF-8 through an error), bounded in length
// whatever the size of the input.
inline void check_message(const Error& error) {
  const std::string_view message = error.what();
  require(!message.empty() && message.size() <= 2000);
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    require(byte >= 0x20 && byte < 0x7f);
  }
}

// An anonymous in-memory file (memfd) with a path, so that readers that take a path (safetensors,
// config.json) can be fed the fuzz input without touching the disk or leaving files behind.
class MemoryFile {
 public:
  MemoryFile() : fd_(::memfd_create("vecformer-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) std::abort();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() { ::close(fd_); }

  // Replaces the whole content.
  void assign(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  int fd_;
  std::filesystem::path path_;
};

}  // namespace vecformer::fuzz
