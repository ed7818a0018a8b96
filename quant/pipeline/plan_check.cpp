#include "quant/pipeline/plan_check.h"

#include "core/runtime/errors.h"

namespace ptq {

void validate_plan_for_layers(const QuantPlan& plan, const std::vector<PlannedLinear>& layers, bool own_groups) {
  std::vector<std::string> names;
  for (const auto& l : layers) names.push_back(l.name);
  check_overrides_match(plan, names);
  for (const auto& l : layers) {
    auto spec = plan.spec_for(l.name, l.type);
    if (!spec) continue;
    try {
      if (!own_groups) spec->validate(l.in_features);  // BiLLM: neither the run's bits nor its group apply
      if (spec->format == WeightFormat::Int && (spec->bits < 2 || spec->bits > 8))
        throw Error("bits must be in 2..8, got " + std::to_string(spec->bits));
    } catch (const Error& e) {
      throw Error("layer " + l.name + ": " + e.what());
    }
    if (plan.act_spec_for(l.name, l.type)) plan.act.validate_width(l.in_features, l.name);
  }
}

}  // namespace ptq
