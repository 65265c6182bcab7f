#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <utility>

namespace vecformer::detail {

// Zeroed, page-aligned memory whose pages are mapped when it is made (MAP_POPULATE), for the
// prepared weights: the kernel maps them in bulk, where first touches in the reorder that fills
// them took one page fault per 4 KiB page (83k faults for BERT-base, most of the load time on a
// virtual machine).
class PageBuffer {
 public:
  PageBuffer() = default;
  explicit PageBuffer(size_t bytes) : bytes_(bytes) {
    if (bytes_ == 0) return;
    data_ = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (data_ == MAP_FAILED) {
      data_ = nullptr;
      throw std::bad_alloc();
    }
  }
  PageBuffer(PageBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  PageBuffer& operator=(PageBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  ~PageBuffer() {
    if (data_) ::munmap(data_, bytes_);
  }

  void* data() const { return data_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace vecformer::detail
