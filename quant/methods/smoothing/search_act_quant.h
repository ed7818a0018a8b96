#pragma once
// Activation quantization inside a scale search (AWQ with --act-bits, OS+): LLMC scores every
// candidate scale s with the scaled input quantized, Q_a(x / s) · Q(W·s)ᵀ (ModelTC/llmc
// llmc/compression/quantization/awq.py search_scale_subset: fake_quantize_input unless w_only;
// osplus.py search_scale_shift_subset: aquantizer.fake_quant_act_dynamic(x_shift / cur_scale)).
// The searches here keep the input x unscaled and give the layers Q(W·s) / s; this guard makes the
// group's layers whose input the plan quantizes read Q_a(x / s) · s, so they compute exactly that
// product. Dynamic scales of the run's granularity (LLMC's fake_quant_act_dynamic; a static
// act setting is calibrated after the transform). Restores the previous quantizers on exit.
#include <ATen/ATen.h>

#include <functional>
#include <utility>
#include <vector>

#include "quant/pipeline/block_stage.h"

namespace ptq {

class ScaledInputQuant {
 public:
  ScaledInputQuant(const BlockWork& w, const std::vector<Linear*>& layers, const at::Tensor& s);
  ~ScaledInputQuant();
  ScaledInputQuant(const ScaledInputQuant&) = delete;
  ScaledInputQuant& operator=(const ScaledInputQuant&) = delete;
  int layers() const { return int(saved_.size()); }

 private:
  std::vector<std::pair<Linear*, std::function<at::Tensor(const at::Tensor&)>>> saved_;
};

// True when some layer of `layers` is weight-quantized and the plan quantizes its input.
bool quantizes_inputs(const BlockWork& w, const std::vector<Linear*>& layers);

}  // namespace ptq
