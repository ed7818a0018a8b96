// The input is a config.json: accepted or refused with a ptq::Error; an accepted config has sizes
// that divide as the model needs (Mamba: its state, conv and dt sizes, no attention), and survives
// the round trip through to_hf_json().
#include <cstddef>
#include <cstdint>

#include "core/io/model_config.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  try {
    ptq::ModelConfig c = ptq::ModelConfig::from_json(ptq::parse_json(text, text + size, "fuzz config"), "fuzz config");
    if (c.is_mamba()) {
      if (c.ssm_state_size <= 0 || c.conv_kernel <= 0 || c.time_step_rank <= 0 || c.num_layers <= 0 ||
          c.vocab_size <= 0 || c.hidden_size <= 0 || c.intermediate_size <= 0 || !(c.rms_norm_eps >= 0))
        __builtin_trap();
      ptq::ModelConfig again = ptq::ModelConfig::from_json(c.to_hf_json(), "round trip");
      if (again.num_layers != c.num_layers || again.ssm_state_size != c.ssm_state_size ||
          again.intermediate_size != c.intermediate_size || again.time_step_rank != c.time_step_rank)
        __builtin_trap();
      return 0;
    }
    if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0 || c.head_dim <= 0 || c.head_dim % 2 != 0 ||
        c.num_layers <= 0 || c.vocab_size <= 0 || c.hidden_size <= 0 || c.intermediate_size <= 0 ||
        !(c.rope_theta > 0) || !(c.rope_scaling.factor > 0) || !(c.rms_norm_eps >= 0) ||
        (c.is_moe() && (c.experts_per_token < 1 || c.experts_per_token > c.num_experts)))
      __builtin_trap();
    ptq::ModelConfig again = ptq::ModelConfig::from_json(c.to_hf_json(), "round trip");
    if (again.num_layers != c.num_layers || again.head_dim != c.head_dim || again.num_kv_heads != c.num_kv_heads)
      __builtin_trap();
  } catch (const ptq::Error&) {
  }
  return 0;
}
