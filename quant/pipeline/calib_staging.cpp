#include "quant/pipeline/calib_staging.h"

#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <cstdlib>
#include <map>
#include <optional>

#include "core/runtime/device.h"
#include "core/runtime/errors.h"

namespace ptq {

CalibStaging parse_calib_staging(const std::string& s) {
  if (s == "auto") return CalibStaging::Auto;
  if (s == "device") return CalibStaging::Device;
  if (s == "host") return CalibStaging::Host;
  throw Error("unknown calibration staging '" + s + "' (choose auto, device or host)");
}

const char* calib_staging_name(CalibStaging s) {
  switch (s) {
    case CalibStaging::Auto: return "auto";
    case CalibStaging::Device: return "device";
    case CalibStaging::Host: return "host";
  }
  return "auto";
}

CalibStaging resolve_calib_staging(CalibStaging s, const at::Device& dev, bool streaming) {
  if (s == CalibStaging::Auto) return dev.is_cuda() && streaming ? CalibStaging::Host : CalibStaging::Device;
  if (s == CalibStaging::Host && !dev.is_cuda())
    throw Error("calibration staging 'host' needs a CUDA device (the activations already live in host memory on " +
                dev.str() + ")");
  return s;
}

namespace {

thread_local int64_t pinned_result_left = 0;  // bytes of pinned memory this run's results may still take

int64_t pinned_result_budget() {
  const char* e = std::getenv("PTQ_PINNED_RESULTS_GIB");
  const double gib = e && *e ? std::atof(e) : 16.0;
  return gib > 0 ? int64_t(gib * double(int64_t(1) << 30)) : 0;
}
}  // namespace

struct StagedBatches::Ahead {
  c10::Stream copy, compute;
  size_t next = 0;          // the batch in flight
  at::Tensor tensor;        // its device copy
  std::optional<c10::Event> copied;
};

// Batches smaller than this are copied in place: measured on the H200 (4 blocks of the 7B shape), the
// overlap took GPTQ's 67 MB batches from 3.1-3.3 s to 2.83-2.87 s per block, while AWQ's 16 MB
// batches went from 0.83-0.85 s to 0.99-1.11 s (a copy of 0.6 ms does not pay for the events).
constexpr int64_t kOverlapBytes = int64_t(32) << 20;

StagedBatches::StagedBatches(const std::vector<at::Tensor>& xs, at::Device d) : xs_(xs), d_(d) {
  if (!d.is_cuda() || xs.empty() || xs.front().device() == d) return;
  if (xs.front().numel() * int64_t(xs.front().element_size()) < kOverlapBytes) return;
  c10::impl::VirtualGuardImpl g(d.type());
  ahead_.reset(new Ahead{g.getStreamFromGlobalPool(d), g.getStream(d)});
}

StagedBatches::~StagedBatches() = default;

void StagedBatches::issue(size_t b) {
  Ahead& a = *ahead_;
  // The host batch may have been written by copies queued on the compute stream (PTQ_NO_STAGING_WRITER):
  // the side stream waits for them; on_device waits for the staging writer's.
  c10::Event written(d_.type());
  written.record(a.compute);
  c10::StreamGuard on_copy(a.copy);
  written.block(a.copy);
  a.tensor = on_device(xs_[b], d_);
  a.copied.emplace(d_.type());
  a.copied->record(a.copy);
  a.next = b;
}

at::Tensor StagedBatches::get(size_t b) {
  if (!ahead_ || xs_[b].device() == d_) return on_device(xs_[b], d_);
  Ahead& a = *ahead_;
  if (!a.copied || a.next != b) issue(b);  // the first batch, or a walk that skipped
  a.copied->block(a.compute);
  at::Tensor x = std::move(a.tensor);
  x.record_stream(a.compute);  // allocated on the side stream, used on the compute stream
  a.copied.reset();
  if (b + 1 < xs_.size() && xs_[b + 1].device() != d_) issue(b + 1);
  return x;
}

namespace {
// The device-to-host staging copies of one thread, on their own stream per device: the compute
// stream queues the next batch while the copy engine drains the last output.
struct StagingWriter {
  c10::Stream stream;
  std::optional<c10::Event> last;  // after the newest write
};

StagingWriter& staging_writer(const at::Device& d) {
  thread_local std::map<int, StagingWriter> writers;
  auto it = writers.find(d.index());
  if (it == writers.end()) {
    c10::impl::VirtualGuardImpl g(d.type());
    it = writers.emplace(d.index(), StagingWriter{g.getStreamFromGlobalPool(d), std::nullopt}).first;
  }
  return it->second;
}
}  // namespace

at::Tensor on_device(const at::Tensor& x, const at::Device& d) {
  if (x.device() == d) return x;
  if (d.is_cuda() && !x.is_cuda()) {
    StagingWriter& w = staging_writer(d);
    if (w.last) w.last->block(c10::impl::VirtualGuardImpl(d.type()).getStream(d));
  }
  return x.to(d, x.scalar_type(), /*non_blocking=*/true, /*copy=*/false);
}

at::Tensor to_staging(const at::Tensor& y, CalibStaging s) {
  if (s != CalibStaging::Host || !y.is_cuda()) return y;
  if (std::getenv("PTQ_NO_STAGING_WRITER")) return pinned_copy(y);  // on the compute stream
  const at::Device d = y.device();
  StagingWriter& w = staging_writer(d);
  c10::Event ready(d.type());
  ready.record(c10::impl::VirtualGuardImpl(d.type()).getStream(d));
  ready.block(w.stream);
  at::Tensor h;
  {
    c10::StreamGuard on_writer(w.stream);
    h = pinned_copy(y);  // the pinned block is kept from reuse until this stream passes the copy
  }
  y.record_stream(w.stream);  // y's device memory is not reused before the copy is done
  w.last.emplace(d.type());
  w.last->record(w.stream);
  return h;
}

void begin_result_copies() { pinned_result_left = pinned_result_budget(); }

at::Tensor to_host_result(const at::Tensor& x) {
  if (!x.defined() || !x.is_cuda()) return x.defined() ? x.cpu() : x;
  const int64_t bytes = x.numel() * int64_t(x.element_size());
  if (bytes > pinned_result_left) return x.cpu();
  pinned_result_left -= bytes;
  return pinned_copy(x);
}

}  // namespace ptq
