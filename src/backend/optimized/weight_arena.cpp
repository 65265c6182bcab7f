#include "backend/optimized/weight_arena.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace vecformer::detail {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kSlab = size_t{32} << 20;  // address space only: pages are mapped as handed out

size_t round_up(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}

}  // namespace

WeightArena::~WeightArena() {
  for (const Slab& slab : slabs_) ::munmap(slab.mapping, slab.size);
}

void* WeightArena::allocate(size_t bytes) {
  bytes = round_up(bytes == 0 ? 1 : bytes, 64);
  char* piece = nullptr;
  {
    const std::lock_guard lock(mutex_);
    if (bytes > left_) {
      const size_t usable = std::max(kSlab, round_up(bytes, kHugePage));
      const size_t size = usable + kHugePage;  // room to align the start to a huge page
      void* mapping =
          ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mapping == MAP_FAILED) throw std::bad_alloc();
      slabs_.push_back({mapping, size});
      next_ = reinterpret_cast<char*>(round_up(reinterpret_cast<uintptr_t>(mapping), kHugePage));
      left_ = usable;
      ::madvise(next_, usable, MADV_HUGEPAGE);  // best effort: THP may be off
    }
    piece = next_;
    next_ += bytes;
    left_ -= bytes;
  }
  // Best effort (Linux 5.14+): elsewhere the pages are mapped by the first writes instead. madvise
  // takes whole pages: from the one holding the piece's start (shared with the piece before it,
  // which is harmless to map again).
  const auto start = reinterpret_cast<uintptr_t>(piece) & ~uintptr_t{4095};
  ::madvise(reinterpret_cast<void*>(start), reinterpret_cast<uintptr_t>(piece) + bytes - start,
            MADV_POPULATE_WRITE);
  return piece;
}

}  // namespace vecformer::detail
