#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/backend.hpp"
#include "vecformer/config.hpp"

namespace vecformer::detail {

// Scratch memory of one forward pass: matrices sized for the largest batch seen so far (in the
// backend's padded rows), and the backend's own scratch. Reused from call to call, so a forward
// pass in steady state allocates nothing. Serves one call at a time.
struct Workspace {
  std::vector<float> x;        // [T, hidden]: the residual stream
  std::vector<float> normed;   // [T, hidden]
  std::vector<float> qkv;      // [T, 3·hidden]
  std::vector<float> context;  // [T, hidden]
  std::vector<float> delta;    // [T, hidden]
  std::vector<float> inner;    // [T, intermediate]
  // Rotary positions: each sequence's table for the layer at hand, and the dynamic-NTK tables of
  // the sequences longer than the trained positions (made per call).
  std::vector<const RotaryTable*> rotary;
  std::vector<RotaryTable> long_rotary;
  std::unique_ptr<Scratch> backend;

  void reserve_for(int64_t rows, const Config& config);
};

// Workspaces of finished calls, handed to the next ones, so that repeated calls reuse their buffers
// instead of allocating (and page-faulting) them again. An encoder serving N threads at once ends
// up with N workspaces, each the size of the largest batch it has run. Private to the encoder that
// owns it: a workspace never meets another encoder's backend.
class WorkspacePool {
 public:
  explicit WorkspacePool(const Backend& backend) : backend_(backend) {}

  // A workspace for one call; it returns to the pool when the lease ends.
  class Lease {
   public:
    Lease(WorkspacePool& pool, std::unique_ptr<Workspace> workspace)
        : pool_(pool), workspace_(std::move(workspace)) {}
    ~Lease() { pool_.give_back(std::move(workspace_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Workspace& operator*() const { return *workspace_; }
    Workspace* operator->() const { return workspace_.get(); }

   private:
    WorkspacePool& pool_;
    std::unique_ptr<Workspace> workspace_;
  };

  Lease acquire() {
    {
      const std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<Workspace> workspace = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(workspace));
      }
      ++created_;
      idle_.reserve(created_);  // so that giving back never allocates
    }
    auto workspace = std::make_unique<Workspace>();
    workspace->backend = backend_.make_scratch();
    return Lease(*this, std::move(workspace));
  }

  // How many workspaces exist (one per call that ran concurrently with the others).
  size_t created() const {
    const std::lock_guard lock(mutex_);
    return created_;
  }

 private:
  void give_back(std::unique_ptr<Workspace> workspace) noexcept {
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(workspace));
  }

  const Backend& backend_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Workspace>> idle_;
  size_t created_ = 0;
};

}  // namespace vecformer::detail
