#pragma once
// One experiment = one result record: load a checkpoint, optionally quantize it with a strategy
// pipeline, then measure (perplexity, model size, accuracy tasks, full-precision-vs-quantized
// output comparison, kurtosis). The CLI (`ptq run`, `ptq sweep`) and the GUI's job queue both call
// run_experiment, so they write identical records (schema: docs/results-schema.md).
#include <functional>
#include <nlohmann/json.hpp>

#include "core/runtime/feedback.h"
#include "eval/analyses/analysis_catalog.h"  // experiment_analyses(): the ids "analyses" may name
#include "eval/experiment/experiment_spec.h"
#include "quant/pipeline/calibration.h"

namespace ptq {

class Model;
struct QuantResult;

// Optional hooks into a run. on_quantized: after quantization and every measurement, with the
// quantized model and its result (cmd_quantize saves the artifacts there).
// device: run on this device instead of spec.device (the device pool's placement,
// eval/experiment/sweep_devices.h); the record keeps the spec's run_id and device, its provenance
// names the device that ran it.
struct ExperimentHooks {
  std::function<void(Model&, const QuantResult&)> on_quantized;
  std::string device;
};

// Runs the experiment and returns its complete record (not written: see result_store.h).
// Throws ptq::Error / ptq::Cancelled; nothing is written on failure.
nlohmann::json run_experiment(const ExperimentSpec& spec, Feedback* fb = nullptr, const ExperimentHooks* hooks = nullptr);

}  // namespace ptq
