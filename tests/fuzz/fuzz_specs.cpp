// The input is an experiment spec or a sweep spec (JSON): accepted or refused with a ptq::Error.
// An accepted experiment spec survives to_json -> from_json with the same run identity; an accepted
// sweep expands (when small) into runs that each parse again as experiment specs.
#include <cstddef>
#include <cstdint>

#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/experiment/sweep.h"

namespace {

void experiment(const nlohmann::json& j) {
  try {
    ptq::ExperimentSpec s = ptq::ExperimentSpec::from_json(j);
    const ptq::ExperimentSpec again = ptq::ExperimentSpec::from_json(s.to_json());
    if (again.run_id() != s.run_id()) __builtin_trap();
  } catch (const ptq::Error&) {
  }
}

void sweep(const nlohmann::json& j) {
  try {
    ptq::SweepSpec s = ptq::SweepSpec::from_json(j, "/fuzz");
    const size_t n = s.models.size() * s.methods.size() * s.bits.size() * s.groups.size() * s.formats.size() *
                     s.sym.size() * (s.calibrations.empty() ? 1 : s.calibrations.size());
    if (n > 256) return;  // a large grid is valid; expanding it only costs time
    for (const auto& run : s.expand()) {
      const ptq::ExperimentSpec again = ptq::ExperimentSpec::from_json(run.to_json());
      if (again.run_id() != run.run_id()) __builtin_trap();
    }
  } catch (const ptq::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  nlohmann::json j;
  try {
    j = ptq::parse_json(text, text + size, "fuzz spec");
  } catch (const ptq::Error&) {
    return 0;
  }
  experiment(j);
  sweep(j);
  return 0;
}
