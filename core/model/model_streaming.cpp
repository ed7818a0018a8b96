// Streaming's block transfers. A streamed model holds one block's weights on the device at a time.
// Reading the next block from the checkpoint and copying it to a GPU, and copying a quantized block
// back to host memory, stalled the compute thread: pageable copies wait for the host to fault in
// fresh pages (0.38 s per 7B block written back, in the profile of a GPTQ run on an H200).
// A worker thread now does the host side: it reads the next block into pinned memory while the
// current one computes, and moves a written-back block from pinned into its host copy. The GPU
// side stays on the compute stream as asynchronous copies from and to pinned memory (~20 ms for a
// 7B block), so their ordering against the kernels is the stream's and no device memory is held
// longer than before. The CPU path reads and converts on the worker. Device-generic c10 events
// build against LibTorch 1.13 (CPU) and 2.x (CUDA) alike.
#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>

#include "core/model/model.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/runtime/worker_thread.h"

namespace ptq {

struct Model::Transfers {
  struct Read {
    std::vector<at::Tensor> tensors;  // CUDA: in pinned host memory; CPU: converted, final
    bool from_home = false;           // read from the host copy of a modified block
  };
  // A block loaded from its host copy, as installed: each slot's tensor and its version counter
  // (bumped by every in-place op). Unchanged at release: the host copy is still current.
  using Snapshot = std::vector<std::pair<const void*, int64_t>>;
  std::map<int, Snapshot> from_home;
  int prefetched = -1;  // block of `pending`, -1 when none
  std::future<Read> pending;
  std::map<int, std::shared_future<void>> writes;  // write-backs in flight, by block
  // Pinned buffers for the write-back, reused from block to block: fresh pinned memory for a 7B block
  // (400 MB) took 0.1-0.25 s of the compute thread per release. The worker hands a buffer back once it
  // has copied it out; a shape with no free buffer gets a new one (at most two sets: one in flight).
  std::mutex pool_mu;
  std::vector<at::Tensor> pool;
  WorkerThread worker;  // last: drained first at destruction

  at::Tensor staging_for(const at::Tensor& x) {
    if (!std::getenv("PTQ_NO_WRITEBACK_POOL")) {
      std::lock_guard<std::mutex> lock(pool_mu);
      for (size_t k = 0; k < pool.size(); ++k)
        if (pool[k].sizes() == x.sizes() && pool[k].scalar_type() == x.scalar_type()) {
          at::Tensor h = std::move(pool[k]);
          pool.erase(pool.begin() + int64_t(k));
          return h.copy_(x, /*non_blocking=*/true);
        }
    }
    return pinned_copy(x);
  }
  void give_back(std::vector<at::Tensor> staged) {
    if (std::getenv("PTQ_NO_WRITEBACK_POOL")) return;
    std::lock_guard<std::mutex> lock(pool_mu);
    for (at::Tensor& h : staged) pool.push_back(std::move(h));
  }

  void drop_prefetch() {  // waits for it; a failure surfaces when that block is acquired
    if (prefetched < 0) return;
    pending.wait();
    pending = {};
    prefetched = -1;
  }
};

namespace {

Model::Transfers::Snapshot snapshot(Block& b) {
  Model::Transfers::Snapshot s;
  for (auto& kv : b.tensors()) s.emplace_back(kv.second->unsafeGetTensorImpl(), kv.second->_version());
  return s;
}

// Waits on the calling thread until the device has passed `e` (1.13's Event has no synchronize).
void wait_for(const c10::Event& e) {
  while (!e.query()) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

}  // namespace

Model::Model() = default;

Model::~Model() {
  if (!transfers_) return;
  try {
    finish_transfers();
  } catch (...) {  // a destructor does not throw: the failure was the caller's to collect
  }
}

void Model::start_transfers() { transfers_ = std::make_unique<Transfers>(); }

void Model::load_block(int i) {
  auto slots = blocks_.at(size_t(i))->tensors();
  std::vector<at::Tensor> ts = read_block(i);
  for (size_t k = 0; k < slots.size(); ++k) *slots[k].second = std::move(ts[k]);
}

std::vector<at::Tensor> Model::read_block(int i, bool* from_home) {
  Block& b = *blocks_.at(size_t(i));
  std::vector<at::Tensor> home;
  {
    std::lock_guard<std::mutex> lock(home_mu_);
    auto it = home_.find(i);
    if (it != home_.end()) home = it->second;
  }
  if (from_home) *from_home = !home.empty();
  const at::Device dev = block_device(i);
  const bool staged = transfers_ && dev.is_cuda();  // the worker stages in pinned memory
  auto slots = b.tensors();
  std::vector<at::Tensor> out;
  for (size_t k = 0; k < slots.size(); ++k) {
    const std::string& key = slots[k].first;
    if (staged)
      out.push_back(!home.empty() ? pinned_copy(home[k]) : ck_->load_pinned(key));
    else
      out.push_back((!home.empty() ? home[k] : ck_->load(key)).to(dev, dtype_, /*non_blocking=*/false, /*copy=*/false));
    // Once per tensor: a streamed block re-read from the checkpoint was checked the first time.
    // Staged tensors are checked on the device when installed (one sync per block).
    if (home.empty() && !checked_[size_t(i)] && !staged) check_finite_weight(out.back(), key, dir_);
  }
  if (!staged) checked_[size_t(i)] = 1;
  return out;
}

void Model::prefetch(int i) {
  if (!transfers_ || i < 0 || i >= num_blocks() || blocks_[size_t(i)]->loaded()) return;
  Transfers& t = *transfers_;
  if (t.prefetched == i) return;
  t.drop_prefetch();  // another block's
  std::shared_future<void> written;
  auto w = t.writes.find(i);
  if (w != t.writes.end()) written = w->second;
  t.pending = t.worker.post([this, i, written]() {
    if (written.valid()) written.get();  // a failed write-back of this block fails its load
    Transfers::Read r;
    r.tensors = read_block(i, &r.from_home);
    return r;
  });
  t.prefetched = i;
}

void Model::install_prefetched(int i) {
  Transfers& t = *transfers_;
  Transfers::Read r = t.pending.get();  // rethrows a failed read (missing tensor, NaN weight)
  t.pending = {};
  t.prefetched = -1;
  const at::Device dev = block_device(i);
  auto slots = blocks_[size_t(i)]->tensors();
  const bool check = !r.from_home && !checked_[size_t(i)];
  std::vector<at::Tensor> bad;
  for (size_t k = 0; k < slots.size(); ++k) {
    at::Tensor x = std::move(r.tensors[k]);
    // From pinned memory: asynchronous on the compute stream, converted there when the stored
    // dtype differs (the caching host allocator keeps the buffer until the copy is done).
    if (x.device() != dev) x = x.to(dev, x.scalar_type(), /*non_blocking=*/true).to(dtype_);
    if (check) bad.push_back(nonfinite_count(x));
    *slots[k].second = std::move(x);
  }
  if (check) {
    const at::Tensor counts = at::stack(bad).cpu();
    for (size_t k = 0; k < slots.size(); ++k)
      refuse_nonfinite(*slots[k].second, slots[k].first, dir_, counts[int64_t(k)].item<int64_t>());
    checked_[size_t(i)] = 1;
  }
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
    const bool cuda = block_device(i).is_cuda();
    std::vector<at::Tensor> staged;
    std::shared_ptr<c10::Event> copied;
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& kv : b.tensors()) staged.push_back(cuda ? transfers_->staging_for(*kv.second) : *kv.second);
    if (std::getenv("PTQ_PROFILE"))
      std::fprintf(stderr, "release %d: %zu tensors staged for write-back in %.3f s (host)\n", i, staged.size(),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (cuda) {  // the worker waits for the copies, not the stream
      copied = std::make_shared<c10::Event>(device_.type());
      copied->record(c10::impl::VirtualGuardImpl(device_.type()).getStream(block_device(i)));
    }
    transfers_->writes[i] = transfers_->worker
                                .post([this, i, staged, copied]() {
                                  std::vector<at::Tensor> host;
                                  if (copied) wait_for(*copied);
                                  // Out of pinned memory into plain host memory (the pinned
                                  // buffers go back to the allocator for the next block).
                                  for (const at::Tensor& x : staged)
                                    host.push_back(copied ? at::empty(x.sizes(), x.options().pinned_memory(false)).copy_(x) : x);
                                  if (copied) transfers_->give_back(staged);
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
  t.drop_prefetch();
  auto writes = std::move(t.writes);
  t.writes.clear();
  for (auto& kv : writes) kv.second.get();  // the first failure is rethrown
}

}  // namespace ptq
