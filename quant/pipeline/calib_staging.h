#pragma once
// Where the calibration activations between blocks live while a model is quantized block by block:
// the block inputs and the full-precision outputs are 2 × tokens × hidden values each (2 GiB each
// for 128 × 2048 tokens of a 7B model in bf16). On the device they cost GPU memory; staged in
// pinned host memory each batch is copied in asynchronously when a forward needs it and its
// output copied back, so the GPU holds one batch at a time beside the block.
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

namespace ptq {

enum class CalibStaging { Auto, Device, Host };

CalibStaging parse_calib_staging(const std::string& s);  // "auto", "device", "host"
const char* calib_staging_name(CalibStaging s);
// Auto: host when the model runs on CUDA streamed (--residency stream: GPU memory is the limit),
// else device. Host needs CUDA (pinned memory); elsewhere it is refused by name.
CalibStaging resolve_calib_staging(CalibStaging s, const at::Device& dev, bool streaming);

// x on device d: x itself when it is there, else an asynchronous copy on the current stream (from
// pinned host memory), ordered after this thread's staging writes (to_staging) into host memory.
at::Tensor on_device(const at::Tensor& x, const at::Device& d);

// The staged batches xs in order, each on device d when asked for: on CUDA, from host staging, the
// next batch's copy is issued on a side stream while the caller computes the current one, so the
// copies overlap the forwards (one more batch on the device), for batches of 32 MB and more.
// Elsewhere plain on_device. get(b)
// must be called for b = 0, 1, 2, ... (a loop may stop early); xs must outlive the walk, and a
// batch the caller replaces after using it (the error pass) is not read again.
class StagedBatches {
 public:
  StagedBatches(const std::vector<at::Tensor>& xs, at::Device d);
  ~StagedBatches();
  StagedBatches(const StagedBatches&) = delete;
  StagedBatches& operator=(const StagedBatches&) = delete;
  at::Tensor get(size_t b);

 private:
  struct Ahead;
  void issue(size_t b);
  const std::vector<at::Tensor>& xs_;
  at::Device d_;
  std::unique_ptr<Ahead> ahead_;  // null: no overlap (CPU, device staging)
};

// y kept where the staging puts it: y itself (Device), or an asynchronous copy into pinned host
// memory (Host). The copy runs on a writer stream of this thread, after the work queued so far on
// the current stream, so it overlaps the next batch's compute; on_device orders every copy back
// after it. Read the host tensor on the CPU only after synchronizing the device.
at::Tensor to_staging(const at::Tensor& y, CalibStaging s);

// A host copy of a result tensor (a layer's codes, scales, zeros) that does not stall the GPU: from
// CUDA into pinned memory, asynchronously (a pageable copy waits for the host to fault in fresh
// pages; the profile of a 7B block showed 0.38 s of it). The caller synchronizes the device before
// reading it (quantize_model does at its end). Pinned memory is held only up to a budget per run
// (PTQ_PINNED_RESULTS_GIB, default 16; granted by begin_result_copies), then copies are plain.
at::Tensor to_host_result(const at::Tensor& x);
void begin_result_copies();

}  // namespace ptq
