// Streaming's block transfers. A streamed model holds one block's weights on the device at a time;
// reading the next block from the checkpoint and copying it in (a pageable copy: ~0.1 s for a 7B
// block on an H200 host) and copying a quantized block back to host memory (0.38 s each in the
// profile of a 7B GPTQ run: fresh pageable pages) used to stall the compute thread. Here a worker
// thread does both: on CUDA on a side stream from LibTorch's pool, ordered against the compute
// stream by events, so the copies overlap the block that is computing; on the CPU the worker reads
// and converts. The device-generic c10 stream and event API builds against LibTorch 1.13 (CPU) and
// 2.x (CUDA) alike.
#include <c10/core/Event.h>
#include <c10/core/Stream.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <future>
#include <optional>

#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "core/runtime/worker_thread.h"

namespace ptq {

struct Model::Transfers {
  struct Loaded {
    std::vector<at::Tensor> tensors;
    std::shared_ptr<c10::Event> ready;  // CUDA: recorded on the copy stream after the copies
    bool from_home = false;             // read from the host copy of a modified block
  };
  // A block loaded from its host copy, as installed: each slot's tensor and its version counter
  // (bumped by every in-place op). Unchanged at release: the host copy is still current.
  using Snapshot = std::vector<std::pair<const void*, int64_t>>;
  std::map<int, Snapshot> from_home;
  std::optional<c10::Stream> copy_stream;  // CUDA only
  int prefetched = -1;                     // block of `pending`, -1 when none
  std::future<Loaded> pending;
  std::map<int, std::shared_future<void>> writes;  // write-backs in flight, by block
  WorkerThread worker;                             // last: drained first at destruction
};

Model::Model() = default;

Model::~Model() {
  if (!transfers_) return;
  try {
    finish_transfers();
  } catch (...) {  // a destructor does not throw: the failure was the caller's to collect
  }
}

void Model::start_transfers() {
  transfers_ = std::make_unique<Transfers>();
  if (device_.is_cuda())
    transfers_->copy_stream = c10::impl::VirtualGuardImpl(device_.type()).getStreamFromGlobalPool(device_);
}

void Model::load_block(int i) {
  Block& b = *blocks_.at(size_t(i));
  auto slots = b.tensors();
  std::vector<at::Tensor> ts = read_block(i);
  for (size_t k = 0; k < slots.size(); ++k) *slots[k].second = std::move(ts[k]);
}

namespace {

Model::Transfers::Snapshot snapshot(Block& b) {
  Model::Transfers::Snapshot s;
  for (auto& kv : b.tensors()) s.emplace_back(kv.second->unsafeGetTensorImpl(), kv.second->_version());
  return s;
}

}  // namespace

std::vector<at::Tensor> Model::read_block(int i, bool* from_home) {
  Block& b = *blocks_.at(size_t(i));
  std::vector<at::Tensor> home;
  {
    std::lock_guard<std::mutex> lock(home_mu_);
    auto it = home_.find(i);
    if (it != home_.end()) home = it->second;
  }
  if (from_home) *from_home = !home.empty();
  auto slots = b.tensors();
  std::vector<at::Tensor> out;
  for (size_t k = 0; k < slots.size(); ++k) {
    at::Tensor src = !home.empty() ? home[k] : ck_->load(slots[k].first);
    out.push_back(src.to(block_device(i), dtype_, /*non_blocking=*/false, /*copy=*/false));
    // Once per tensor: a streamed block re-read from the checkpoint was checked the first time.
    if (home.empty() && !checked_[size_t(i)]) check_finite_weight(out.back(), slots[k].first, dir_);
  }
  checked_[size_t(i)] = 1;
  return out;
}

void Model::prefetch(int i) {
  if (!transfers_ || i < 0 || i >= num_blocks() || blocks_[size_t(i)]->loaded()) return;
  Transfers& t = *transfers_;
  if (t.prefetched == i) return;
  if (t.prefetched >= 0) {  // another block's: wait for it (its failure surfaces when that block is acquired)
    t.pending.wait();
    t.pending = {};
    t.prefetched = -1;
  }
  std::shared_future<void> written;
  auto w = t.writes.find(i);
  if (w != t.writes.end()) written = w->second;
  t.pending = t.worker.post([this, i, written]() {
    if (written.valid()) written.get();  // a failed write-back of this block fails its load
    Transfers& tr = *transfers_;
    Transfers::Loaded r;
    if (!tr.copy_stream) {
      r.tensors = read_block(i, &r.from_home);
      return r;
    }
    c10::StreamGuard on_copy_stream(*tr.copy_stream);
    r.tensors = read_block(i, &r.from_home);
    r.ready = std::make_shared<c10::Event>(device_.type());
    r.ready->record(*tr.copy_stream);
    return r;
  });
  t.prefetched = i;
}

void Model::install_prefetched(int i) {
  Transfers& t = *transfers_;
  Transfers::Loaded r = t.pending.get();  // rethrows a failed read (missing tensor, NaN weight)
  t.pending = {};
  t.prefetched = -1;
  if (r.ready) {
    const c10::Stream compute = c10::impl::VirtualGuardImpl(device_.type()).getStream(block_device(i));
    r.ready->block(compute);
    // Allocated on the copy stream: the allocator must not hand this memory to the next prefetch
    // before the compute stream is done with it.
    for (const at::Tensor& x : r.tensors) x.record_stream(compute);
  }
  auto slots = blocks_[size_t(i)]->tensors();
  for (size_t k = 0; k < slots.size(); ++k) *slots[k].second = std::move(r.tensors[k]);
  if (r.from_home) t.from_home[i] = snapshot(*blocks_[size_t(i)]);
}

Block& Model::acquire(int i) {
  Block& b = *blocks_.at(size_t(i));
  if (b.loaded()) return b;
  if (!transfers_) {
    load_block(i);
    return b;
  }
  prefetch(i);
  install_prefetched(i);
  return b;
}

void Model::release(int i) {
  if (!streaming_) return;
  Block& b = *blocks_.at(size_t(i));
  if (!b.loaded()) return;
  auto installed = transfers_->from_home.find(i);
  // A block read from its host copy and not changed since (evaluation after quantization): the
  // copy is current, nothing to write.
  const bool current = installed != transfers_->from_home.end() && installed->second == snapshot(b);
  if (installed != transfers_->from_home.end()) transfers_->from_home.erase(installed);
  if (b.modified() && !current) {
    std::vector<at::Tensor> dev;
    for (auto& kv : b.tensors()) dev.push_back(*kv.second);
    std::shared_ptr<c10::Event> done;
    if (transfers_->copy_stream) {  // the copy starts after every kernel queued so far has written the block
      done = std::make_shared<c10::Event>(device_.type());
      done->record(c10::impl::VirtualGuardImpl(device_.type()).getStream(block_device(i)));
    }
    // The task holds the device tensors until their copies are done, so their memory is not reused.
    transfers_->writes[i] = transfers_->worker
                                .post([this, i, dev, done]() {
                                  std::vector<at::Tensor> host;
                                  if (!transfers_->copy_stream) {
                                    for (const at::Tensor& x : dev) host.push_back(x.to(at::kCPU));
                                  } else {
                                    c10::StreamGuard on_copy_stream(*transfers_->copy_stream);
                                    done->block(*transfers_->copy_stream);
                                    for (const at::Tensor& x : dev) host.push_back(x.to(at::kCPU));
                                  }
                                  std::lock_guard<std::mutex> lock(home_mu_);
                                  home_[i] = std::move(host);
                                })
                                .share();
  }
  b.unload();
}

void Model::finish_transfers() {
  if (!transfers_) return;
  Transfers& t = *transfers_;
  if (t.prefetched >= 0) {
    t.pending.wait();
    t.pending = {};
    t.prefetched = -1;
  }
  auto writes = std::move(t.writes);
  t.writes.clear();
  for (auto& kv : writes) kv.second.get();  // the first failure is rethrown
}

}  // namespace ptq
