// Mamba-1 shapes for make-checkpoint, from the hub's state-spaces/mamba-1.4b-hf and mamba-2.8b-hf
// config.json: hidden 2048 / 2560, 48 / 64 layers, state 16, conv 4, expand 2, time_step_rank
// ceil(hidden / 16) = 128 / 160, vocab 50280, tied embeddings, no in/out_proj bias, conv bias,
// residual in float32, layer_norm_epsilon 1e-5.
#include <cmath>

#include "core/io/make_checkpoint.h"
#include "core/runtime/text_util.h"

namespace ptq {

namespace {

struct MambaPreset {
  const char* name;
  int64_t hidden, layers, vocab;
};
// tiny-mamba: the parity fixture's shape with state 16, for tests.
const MambaPreset kMambaPresets[] = {{"mamba-1.4b", 2048, 48, 50280}, {"mamba-2.8b", 2560, 64, 50280},
                                     {"tiny-mamba", 64, 2, 8192}};

}  // namespace

const std::vector<std::string>& mamba_presets() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> r;
    for (const auto& p : kMambaPresets) r.push_back(p.name);
    return r;
  }();
  return v;
}

std::optional<ModelConfig> mamba_preset_config(const std::string& like) {
  for (const auto& p : kMambaPresets) {
    if (like != p.name) continue;
    ModelConfig c;
    c.architecture = "MambaForCausalLM";
    c.model_type = "mamba";
    c.hidden_size = p.hidden;
    c.intermediate_size = 2 * p.hidden;
    c.num_layers = p.layers;
    c.vocab_size = p.vocab;
    c.ssm_state_size = 16;
    c.conv_kernel = 4;
    c.time_step_rank = (p.hidden + 15) / 16;
    c.rms_norm_eps = 1e-5;
    c.mixer_bias = false;
    c.conv_bias = true;
    c.residual_in_fp32 = true;
    c.tie_word_embeddings = true;
    c.max_position_embeddings = int64_t(1) << 30;
    c.num_heads = c.num_kv_heads = c.head_dim = 0;
    return c;
  }
  return std::nullopt;
}

// transformers' MambaPreTrainedModel._init_weights, deterministic parts: A_log = log(1..N) per
// channel, D = 1, dt_proj.bias = softplus⁻¹(dt) for dt spread log-uniformly over [1e-3, 0.1]
// (deterministic here instead of random), conv1d bias 0. The rest is drawn by the caller.
at::Tensor mamba_initial_tensor(const std::string& name, const std::vector<int64_t>& shape) {
  if (name.rfind("backbone.", 0) != 0) return at::Tensor();
  if (ends_with(name, "mixer.A_log"))
    return at::log(at::arange(1, shape[1] + 1, at::kFloat)).unsqueeze(0).expand({shape[0], shape[1]}).contiguous();
  if (ends_with(name, "mixer.D")) return at::ones(shape, at::kFloat);
  if (ends_with(name, "mixer.conv1d.bias")) return at::zeros(shape, at::kFloat);
  if (ends_with(name, "mixer.dt_proj.bias")) {
    at::Tensor frac = at::linspace(0.0, 1.0, shape[0], at::kFloat);
    at::Tensor dt = at::exp(frac * (std::log(0.1) - std::log(1e-3)) + std::log(1e-3));
    return dt + at::log(-at::expm1(-dt));  // inverse of softplus
  }
  return at::Tensor();
}

}  // namespace ptq
