#pragma once
// The engine as a RecordRunner (eval/experiment/sweep_runner.h): run_experiment on the spec, with
// a device out-of-memory error said as such. `ptq sweep` and the workbench (app/gui) pass it to
// run_sweep; views/ never links it.
#include "eval/experiment/sweep_runner.h"

namespace ptq {

RecordRunner engine_runner();

// The device a spec's "auto" (or "cuda") resolves to on this machine: "cpu" or "cuda:N".
// Throws ptq::Error for an unknown device.
std::string resolve_device(const std::string& device);

}  // namespace ptq
