#include "quant/pipeline/act_install.h"

#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "quant/formats/activation_quant.h"

namespace ptq {

namespace {

bool is_qkv(const std::string& type) { return type == "q" || type == "k" || type == "v" || type == "qkv"; }

// The q/k/v output quantizer: the activation format per token (per head groups would need the
// head layout; the KV cache quantizer does that where K and V are written).
ActQuantSpec output_spec(const ActQuantSpec& s) {
  ActQuantSpec o = s;
  o.calibration = ActCalibration::Dynamic;
  if (o.granularity != ActGranularity::Group) o.granularity = ActGranularity::Token;
  return o;
}

}  // namespace

void install_activation_quantizer(Linear& l, const ActQuantSpec& s, const at::Tensor& static_scale) {
  if (s.is_static() && !static_scale.defined()) throw Error("internal: no static activation scale for " + l.name());
  const at::Tensor scale = static_scale;
  l.input_quantizer = [s, scale](const at::Tensor& x) { return fake_quantize_activation(x, s, scale); };
  l.output_quantizer = nullptr;
  if (s.qkv_out && is_qkv(l.spec.type)) {
    const ActQuantSpec o = output_spec(s);
    l.output_quantizer = [o](const at::Tensor& y) { return fake_quantize_activation(y, o); };
  }
}

int install_activation_quantizers(Model& model, const QuantPlan& plan,
                                  const std::map<std::string, at::Tensor>& static_scales) {
  remove_activation_quantizers(model);
  int n = 0;
  for (int i = 0; i < model.num_blocks(); ++i) {
    for (auto& l : model.block(i).linears()) {
      const std::string full = linear_full_name(i, l.name());
      auto spec = plan.act_spec_for(full, l.spec.type);
      if (!spec) continue;
      at::Tensor scale;
      if (spec->is_static()) {
        auto it = static_scales.find(full);
        if (it == static_scales.end()) throw Error("internal: no static activation scale for " + full);
        scale = it->second.to(model.device());
      }
      install_activation_quantizer(l, *spec, scale);
      ++n;
    }
  }
  return n;
}

void remove_activation_quantizers(Model& model) {
  for (int i = 0; i < model.num_blocks(); ++i)
    for (auto& l : model.block(i).linears()) {
      l.input_quantizer = nullptr;
      l.output_quantizer = nullptr;
    }
}

nlohmann::json activation_record(const Model& model, const QuantPlan& plan, int quantized_inputs) {
  if (!plan.act.enabled()) return nullptr;
  nlohmann::json j = plan.act.to_json();
  j["label"] = plan.act.label();
  j["quantized_inputs"] = quantized_inputs;
  nlohmann::json fp = nlohmann::json::array();
  Model& m = const_cast<Model&>(model);
  for (int i = 0; i < m.num_blocks(); ++i)
    for (const auto& l : m.block(i).linears()) {
      const std::string full = linear_full_name(i, l.name());
      if (!plan.act_spec_for(full, l.spec.type)) fp.push_back(full);
    }
  fp.push_back("lm_head");
  j["full_precision_inputs"] = fp;
  return j;
}

}  // namespace ptq
