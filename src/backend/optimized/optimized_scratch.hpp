#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>

#include <dnnl.h>
#include <dnnl.hpp>

#include "backend/backend.hpp"

namespace vecformer::detail {

// A 64-byte aligned buffer that grows to the largest size asked of it and is then reused as is.
class GrowingBuffer {
 public:
  template <class T>
  T* get(size_t count) {
    const size_t bytes = count * sizeof(T);
    if (bytes > bytes_) {
      data_.reset(static_cast<std::byte*>(::operator new(bytes, kAlignment)));
      bytes_ = bytes;
    }
    return reinterpret_cast<T*>(data_.get());
  }

 private:
  static constexpr std::align_val_t kAlignment{64};
  struct Free {
    void operator()(std::byte* p) const { ::operator delete(p, kAlignment); }
  };
  std::unique_ptr<std::byte, Free> data_;
  size_t bytes_ = 0;
};

// One primitive's execution arguments in oneDNN's C form, built once and re-pointed at each call's
// buffers: the C++ execute() builds a std::unordered_map and a std::vector on every call.
class BoundArgs {
 public:
  // Adds argument `arg`; returns its index for point(). The memory object is kept alive here.
  size_t add(int arg, const dnnl::memory& memory) {
    memories_.push_back(memory);
    args_.push_back({arg, memory.get()});
    return args_.size() - 1;
  }
  void point(size_t index, const void* data) const {
    // oneDNN's own memory objects never write through a source handle; const_cast is its idiom.
    memories_[index].set_data_handle(const_cast<void*>(data));
  }
  void execute(const dnnl::primitive& primitive, dnnl::stream& stream) const {
    dnnl::error::wrap_c_api(dnnl_primitive_execute(primitive.get(), stream.get(),
                                                   static_cast<int>(args_.size()), args_.data()),
                            "could not execute a primitive");
  }

 private:
  std::vector<dnnl::memory> memories_;
  std::vector<dnnl_exec_arg_t> args_;
};

// The optimized backend's per-caller state: one oneDNN stream, grow-only buffers, and the argument
// bindings of every primitive this caller has run.
class OptimizedScratch final : public Scratch {
 public:
  explicit OptimizedScratch(const dnnl::engine& engine) : stream_(engine) {}

  dnnl::stream& stream() { return stream_; }

  GrowingBuffer gemm_scratchpad;  // oneDNN's user-mode scratchpad
  GrowingBuffer converted_input;  // bf16 or s8 copies of a GEMM's input rows
  GrowingBuffer token_scales;     // int8: one scale per input row
  GrowingBuffer attention;        // per OpenMP thread: kernels::attention_scratch_floats
  GrowingBuffer gated;            // a gated linear's GEMM output, both halves (GatedLinear)

  // The bindings of one primitive, made by `make` the first time this scratch runs it. They grow
  // with the primitives (one per distinct row bucket and thread count: "steady state" means
  // repeated buckets) and no further: an entry remembers its primitive weakly, so a primitive its
  // cache has dropped is never matched again (even when a new one takes its address), and such
  // entries are swept out when a new one is added.
  template <class Binding, class Primitive, class Make>
  const Binding& binding(const std::shared_ptr<const Primitive>& primitive, Make&& make) {
    auto it = bindings_.find(primitive.get());
    if (it != bindings_.end() && !it->second.primitive.expired()) {
      return static_cast<const Holder<Binding>&>(*it->second.holder).value;
    }
    if (it != bindings_.end()) bindings_.erase(it);
    std::erase_if(bindings_, [](const auto& entry) { return entry.second.primitive.expired(); });
    Entry entry{primitive, std::make_unique<Holder<Binding>>(make())};
    it = bindings_.emplace(primitive.get(), std::move(entry)).first;
    return static_cast<const Holder<Binding>&>(*it->second.holder).value;
  }

  size_t bindings() const { return bindings_.size(); }

 private:
  struct HolderBase {
    virtual ~HolderBase() = default;
  };
  template <class Binding>
  struct Holder final : HolderBase {
    explicit Holder(Binding b) : value(std::move(b)) {}
    Binding value;
  };
  struct Entry {
    std::weak_ptr<const void> primitive;
    std::unique_ptr<HolderBase> holder;
  };

  dnnl::stream stream_;
  std::unordered_map<const void*, Entry> bindings_;
};

}  // namespace vecformer::detail
