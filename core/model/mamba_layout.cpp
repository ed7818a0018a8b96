// Tensor names and shapes of a Mamba-1 block, as transformers' modeling_mamba.py (MambaBlock,
// MambaMixer) stores them under backbone.layers.L: norm.weight [H]; mixer.in_proj [2·I, H] (x | z),
// conv1d.weight [I, 1, K] (+ bias [I]), x_proj [R + 2N, I] (dt | B | C), dt_proj [I, R] + bias,
// A_log [I, N], D [I], out_proj [H, I]; in_proj / out_proj biased when use_bias.
#include "core/model/model_layout.h"

namespace ptq {

std::vector<LinearSpec> mamba_block_linears(const ModelConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size, R = c.time_step_rank, N = c.ssm_state_size;
  return {{"mixer.in_proj", 2 * I, H, c.mixer_bias, "in_proj"},
          {"mixer.x_proj", R + 2 * N, I, false, "x_proj"},
          {"mixer.dt_proj", I, R, true, "dt_proj"},
          {"mixer.out_proj", H, I, c.mixer_bias, "out_proj"}};
}

std::vector<TensorSpec> mamba_block_tensors(const ModelConfig& c, int64_t layer) {
  const std::string p = block_key_prefix(c, int(layer));
  const int64_t I = c.intermediate_size;
  std::vector<TensorSpec> t = {{p + "norm.weight", {c.hidden_size}},
                               {p + "mixer.conv1d.weight", {I, 1, c.conv_kernel}}};
  if (c.conv_bias) t.push_back({p + "mixer.conv1d.bias", {I}});
  t.push_back({p + "mixer.A_log", {I, c.ssm_state_size}});
  t.push_back({p + "mixer.D", {I}});
  return t;
}

}  // namespace ptq
