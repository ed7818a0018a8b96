#include "quant/pipeline/calib_staging.h"

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

at::Tensor to_staging(const at::Tensor& y, CalibStaging s) {
  if (s != CalibStaging::Host || !y.is_cuda()) return y;
  at::Tensor h = at::empty(y.sizes(), y.options().device(at::kCPU).pinned_memory(true));
  h.copy_(y, /*non_blocking=*/true);
  return h;
}

}  // namespace ptq
