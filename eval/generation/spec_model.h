#pragma once
// The model an experiment spec records, without its measurements: loaded as the spec says,
// quantized by its method (none for "fp"), with its KV-cache quantization installed (as
// run_experiment does after quantizing). For `ptq generate --spec RUN.json`.
#include <memory>

#include "core/model/model.h"
#include "core/runtime/feedback.h"
#include "eval/experiment/experiment_spec.h"

namespace ptq {

std::unique_ptr<Model> load_spec_model(const ExperimentSpec& spec, Feedback* fb = nullptr);

}  // namespace ptq
