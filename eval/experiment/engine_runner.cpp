#include "eval/experiment/engine_runner.h"

#include <c10/core/DeviceGuard.h>

#include "core/runtime/device.h"
#include "core/runtime/device_names.h"
#include "core/runtime/errors.h"
#include "eval/experiment/experiment.h"

namespace ptq {

RecordRunner engine_runner(const std::string& device) {
  return [device](const ExperimentSpec& spec, Feedback& fb) {
    try {
      if (device.empty()) return run_experiment(spec, &fb);
      c10::DeviceGuard current(parse_device(device));
      ExperimentHooks hooks;
      hooks.device = device;
      return run_experiment(spec, &fb, &hooks);
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      if (!is_out_of_memory(e)) throw;
      throw Error("the device ran out of memory: " + std::string(e.what()).substr(0, 300));
    }
  };
}

std::vector<std::string> visible_cuda_devices() {
  std::vector<std::string> out;
  for (int i = 0, n = cuda_device_count(); i < n; ++i) out.push_back("cuda:" + std::to_string(i));
  return out;
}

std::string resolve_device(const std::string& device) {
  const std::string name = canonical_device(device);
  if (name != "auto") return name;
  const at::Device d = parse_device(name);
  return d.is_cuda() ? "cuda:" + std::to_string(d.index() < 0 ? 0 : d.index()) : "cpu";
}

}  // namespace ptq
