#include "quant/methods/smoothing/search_act_quant.h"

#include "core/model/model_layout.h"
#include "quant/formats/activation_quant.h"

namespace ptq {

ScaledInputQuant::ScaledInputQuant(const BlockWork& w, const std::vector<Linear*>& layers, const at::Tensor& s) {
  for (Linear* l : layers) {
    if (!w.spec_for(*l)) continue;
    auto a = w.plan.act_spec_for(linear_full_name(w.block.index(), l->name()), l->spec.type);
    if (!a) continue;
    ActQuantSpec d = *a;
    d.calibration = ActCalibration::Dynamic;
    const at::Tensor sd = s.to(l->weight.device(), at::kFloat);
    saved_.push_back({l, l->input_quantizer});
    l->input_quantizer = [d, sd](const at::Tensor& x) {
      return (fake_quantize_activation(x.to(at::kFloat) / sd, d) * sd).to(x.scalar_type());
    };
  }
}

ScaledInputQuant::~ScaledInputQuant() {
  for (auto& [l, f] : saved_) l->input_quantizer = f;
}

bool quantizes_inputs(const BlockWork& w, const std::vector<Linear*>& layers) {
  for (Linear* l : layers)
    if (w.spec_for(*l) && w.plan.act_spec_for(linear_full_name(w.block.index(), l->name()), l->spec.type)) return true;
  return false;
}

}  // namespace ptq
