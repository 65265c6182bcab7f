#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace vecformer::detail {

// Memory for a backend's prepared weights: slabs of transparent huge pages (2 MiB-aligned,
// MADV_HUGEPAGE) handed out in 64-byte-aligned pieces, each piece's pages mapped when it is handed
// out (MADV_POPULATE_WRITE). On 4 KiB pages the first write of each page was most of a BERT-base
// load on this project's virtual machines (340 MB of weights: 0.65 s, against 0.03 s on huge
// pages: docs/PERFORMANCE_NOTES.md). Where the kernel has no huge pages the same calls fall back to
// ordinary pages. Thread-safe: linears are prepared in parallel. Lives as long as the linears that
// hold it.
class WeightArena {
 public:
  WeightArena() = default;
  WeightArena(const WeightArena&) = delete;
  WeightArena& operator=(const WeightArena&) = delete;
  ~WeightArena();

  // `bytes` of zeroed memory, 64-byte aligned, valid until the arena is destroyed.
  void* allocate(size_t bytes);

 private:
  struct Slab {
    void* mapping = nullptr;
    size_t size = 0;
  };
  std::mutex mutex_;
  std::vector<Slab> slabs_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace vecformer::detail
