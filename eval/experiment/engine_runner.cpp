#include "eval/experiment/engine_runner.h"

#include "core/runtime/device.h"
#include "core/runtime/device_names.h"
#include "core/runtime/errors.h"
#include "eval/experiment/experiment.h"

namespace ptq {

RecordRunner engine_runner() {
  return [](const ExperimentSpec& spec, Feedback& fb) {
    try {
      return run_experiment(spec, &fb);
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      if (!is_out_of_memory(e)) throw;
      throw Error("the device ran out of memory: " + std::string(e.what()).substr(0, 300));
    }
  };
}

std::string resolve_device(const std::string& device) {
  const std::string name = canonical_device(device);
  if (name != "auto") return name;
  const at::Device d = parse_device(name);
  return d.is_cuda() ? "cuda:" + std::to_string(d.index() < 0 ? 0 : d.index()) : "cpu";
}

}  // namespace ptq
