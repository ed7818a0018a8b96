#pragma once
// The plan's check against a model's linear layers, before any work: what the pipeline checks
// (quantize_model's validate_request) and the workbench checks on a checkpoint's summary before
// it queues a run (views/panels/run_check.h). Torch-free (ptq_spec).
#include <string>
#include <vector>

#include "quant/pipeline/quant_plan.h"

namespace ptq {

// A linear layer as the plan sees it: full name ("layers.3.mlp.down_proj"), type and input width.
struct PlannedLinear {
  std::string name, type;
  int64_t in_features = 0;
};

// Every override matches a layer (check_overrides_match), every planned layer's spec fits its width
// (the group divides it, the format's block, bits 2..8) and so does the activation spec.
// own_groups: the quantizer uses its own column blocks (BiLLM), so the run's group does not apply.
// Throws ptq::Error naming the layer and the problem.
void validate_plan_for_layers(const QuantPlan& plan, const std::vector<PlannedLinear>& layers, bool own_groups = false);

}  // namespace ptq
