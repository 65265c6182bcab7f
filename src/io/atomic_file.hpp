#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace vecformer::detail {

// A file written under a temporary name next to its target and renamed over the target on commit(),
// so that a reader never sees a partial file and a failure leaves nothing behind (the temporary is
// removed unless committed). Errors throw vecformer::Error naming the target path.
class AtomicFile {
 public:
  explicit AtomicFile(const std::filesystem::path& target);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  void write(const void* data, size_t size);
  void write(const std::string& text) { write(text.data(), text.size()); }
  void commit();

 private:
  std::filesystem::path target_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace vecformer::detail
