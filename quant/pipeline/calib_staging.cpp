#include "quant/pipeline/calib_staging.h"

#include <cstdlib>

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

// An asynchronous copy of CUDA tensor x into fresh pinned host memory.
at::Tensor pinned_copy(const at::Tensor& x) {
  at::Tensor h = at::empty(x.sizes(), x.options().device(at::kCPU).pinned_memory(true));
  h.copy_(x, /*non_blocking=*/true);
  return h;
}

thread_local int64_t pinned_result_left = 0;  // bytes of pinned memory this run's results may still take

int64_t pinned_result_budget() {
  const char* e = std::getenv("PTQ_PINNED_RESULTS_GIB");
  const double gib = e && *e ? std::atof(e) : 16.0;
  return gib > 0 ? int64_t(gib * double(int64_t(1) << 30)) : 0;
}
}  // namespace

at::Tensor to_staging(const at::Tensor& y, CalibStaging s) {
  return s == CalibStaging::Host && y.is_cuda() ? pinned_copy(y) : y;
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
