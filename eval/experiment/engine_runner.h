#pragma once
// The engine as a RecordRunner (eval/experiment/sweep_runner.h): run_experiment on the spec, with
// a device out-of-memory error said as such. `ptq sweep` and the workbench (app/gui) pass it to
// run_sweep; views/ never links it.
#include <string>
#include <vector>

#include "eval/experiment/sweep_runner.h"

namespace ptq {

// `device` non-empty: every run goes on that device (its identity keeps the spec's device), with
// that device current in the calling thread (the device pool's workers, sweep_devices.h).
RecordRunner engine_runner(const std::string& device = "");
// The CUDA devices this process sees ("cuda:0" ... "cuda:N-1"); empty without CUDA.
std::vector<std::string> visible_cuda_devices();

// The device a spec's "auto" (or "cuda") resolves to on this machine: "cpu" or "cuda:N".
// Throws ptq::Error for an unknown device.
std::string resolve_device(const std::string& device);

}  // namespace ptq
