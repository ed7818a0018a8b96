#pragma once
// Puts the activation quantizer on the input of every quantized linear of a model (what
// QuantPlan::act_spec_for names; routers, skipped layers and lm_head keep full precision), after
// any online input transform (QuaRot's Hadamard before down_proj), and optionally on the q/k/v
// outputs. The pipeline calls it once all weights are quantized (GPTQ calibrates on
// full-precision activations, as QuaRot's main.py: gptq_fwrd runs before the act quantizers are
// configured), so evaluation and every analysis after quantization see quantized activations.
#include <ATen/ATen.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "quant/pipeline/quant_plan.h"

namespace ptq {

class Model;

// static_scales: calibrated scales by full layer name ("layers.3.mlp.down_proj"), required for
// every quantized layer when plan.act is static. Returns the number of linears whose input is now
// quantized. Any earlier quantizers are replaced.
int install_activation_quantizers(Model& model, const QuantPlan& plan,
                                  const std::map<std::string, at::Tensor>& static_scales = {});
// One linear's quantizers: `s` on its input (with `static_scale` when s is static: [1] or
// [width / group], on the model's device) and, when s.qkv_out and the layer is q/k/v, per-token
// quantization of its output. Used by the above and by load_quantized_model.
struct Linear;
void install_activation_quantizer(Linear& l, const ActQuantSpec& s, const at::Tensor& static_scale = {});
// Removes every activation quantizer (the model computes activations in full precision again).
void remove_activation_quantizers(Model& model);

// The record of the activation setting: the act_* keys, the number of quantized inputs, and the
// layers kept in full precision ("activations": {...}); null when activations are not quantized.
nlohmann::json activation_record(const Model& model, const QuantPlan& plan, int quantized_inputs);

}  // namespace ptq
