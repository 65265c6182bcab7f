#pragma once

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

namespace vecformer::test {

// A unique path under the temp folder, removed (with anything written there) when the test ends.
class TempPath {
 public:
  explicit TempPath(const std::string& stem) {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("vecformer-test-" + stem + "-" + std::to_string(::getpid()) + "-" +
             std::to_string(random()) + "-" + std::to_string(random()));
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace vecformer::test
