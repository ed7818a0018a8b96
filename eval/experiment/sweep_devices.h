#pragma once
// A sweep on several devices at once (torch-free: ptq_spec). One worker thread per device, each
// running one run at a time and taking the next run nobody has taken, in the sweep's order, so a
// host with N GPUs runs N runs at a time. Each run follows run_sweep's rules (sweep_runner.h):
// complete records are skipped, records are written atomically as runs finish, a failed run is
// reported and the others go on.
//
// The device a worker runs on is an execution detail, not part of a run's identity: the runner of
// worker k (engine_runner(devices[k])) runs the spec on its device while the record keeps the
// spec's run_id and device, and its provenance names the device that ran it. So a results folder
// is reused whichever GPU ran each run.
//
// Cancelling `fb` (a signal, the GUI's cancel) cancels every worker's current run; the runs not
// started are not started; with SweepOptions::rethrow_cancel ptq::Cancelled is thrown after all
// workers have stopped, else SweepSummary::cancelled is set. Progress: `fb` receives the sweep's
// overall fraction (finished runs plus each running run's own fraction, over the number of runs),
// with the stage of the worker that reported last, prefixed by its device name.
#include <string>
#include <vector>

#include "eval/experiment/sweep_runner.h"

namespace ptq {

struct DeviceWorker {
  std::string device;   // the name shown in progress and events ("cuda:1")
  RecordRunner runner;  // runs a spec on that device
};

SweepSummary run_sweep_on_devices(const std::vector<ExperimentSpec>& runs, const std::string& results_dir,
                                  const std::vector<DeviceWorker>& workers, const SweepOptions& options, Feedback& fb,
                                  const std::function<void(const SweepEvent&)>& on_event = {});

// The device list of `--devices`: comma-separated canonical names ("cuda:0,cuda:1", "cpu,cpu" to run
// two CPU runs side by side). Every entry must be of the kind the runs ask for (all CUDA or all
// CPU); `spec_device` is the runs' canonical device. Throws ptq::Error naming the bad entry.
std::vector<std::string> parse_device_list(const std::string& list, const std::string& spec_device);

}  // namespace ptq
