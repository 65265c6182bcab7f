#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "encoder/encoder.hpp"

namespace vecformer::detail {

// Workspaces of finished calls, handed to the next ones, so that repeated encode calls reuse their
// buffers instead of allocating (and page-faulting) them again. A Model serving N threads at once
// ends up with N workspaces, each the size of the largest batch it has run.
class WorkspacePool {
 public:
  explicit WorkspacePool(const Encoder& encoder) : encoder_(encoder) {}

  // A workspace for one call; it returns to the pool when the lease ends.
  class Lease {
   public:
    Lease(WorkspacePool& pool, std::unique_ptr<Workspace> workspace)
        : pool_(pool), workspace_(std::move(workspace)) {}
    ~Lease() { pool_.give_back(std::move(workspace_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Workspace& operator*() const { return *workspace_; }

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
    return Lease(*this, std::make_unique<Workspace>(encoder_.make_workspace()));
  }

 private:
  void give_back(std::unique_ptr<Workspace> workspace) noexcept {
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(workspace));
  }

  const Encoder& encoder_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Workspace>> idle_;
  size_t created_ = 0;
};

}  // namespace vecformer::detail
