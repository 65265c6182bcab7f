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

  // The bindings of one primitive (keyed by its address, which is stable while the Model lives),
  // made by `make` the first time this scratch runs it. Like the primitive caches, they grow by one
  // entry per distinct (token count, thread count): "steady state" means repeated shapes.
  template <class Binding, class Make>
  const Binding& binding(const void* primitive, Make&& make) {
    auto it = bindings_.find(primitive);
    if (it == bindings_.end()) {
      it = bindings_.emplace(primitive, std::make_unique<Holder<Binding>>(make())).first;
    }
    return static_cast<const Holder<Binding>&>(*it->second).value;
  }

 private:
  struct HolderBase {
    virtual ~HolderBase() = default;
  };
  template <class Binding>
  struct Holder final : HolderBase {
    explicit Holder(Binding b) : value(std::move(b)) {}
    Binding value;
  };

  dnnl::stream stream_;
  std::unordered_map<const void*, std::unique_ptr<HolderBase>> bindings_;
};

}  // namespace vecformer::detail
