// config.json of MambaForCausalLM (Mamba-1), as transformers' configuration_mamba.py reads it:
// defaults state_size 16, conv_kernel 4, expand 2, use_bias true, use_conv_bias true,
// residual_in_fp32 true, layer_norm_epsilon 1e-5, time_step_rank "auto" = ceil(hidden / 16),
// intermediate_size = int(expand · hidden_size); tie_word_embeddings defaults to true
// (PreTrainedConfig). The hub checkpoints (state-spaces/mamba-*-hf) carry every key explicitly.
#include <cmath>
#include <cstdint>
#include <string>

#include "core/io/config_reader.h"
#include "core/io/model_config.h"
#include "core/runtime/errors.h"

namespace ptq {

using json = nlohmann::json;

namespace {

// Bounds far above the released models (hidden 2560, 64 layers, state 16, conv 4, expand 2).
constexpr int64_t kMaxHidden = int64_t(1) << 17;
constexpr int64_t kMaxLayers = int64_t(1) << 12;
constexpr int64_t kMaxVocab = int64_t(1) << 24;
constexpr int64_t kMaxState = 1024;
constexpr int64_t kMaxKernel = 64;
constexpr int64_t kMaxExpand = 16;

void read_time_step_rank(ModelConfig& c, const ConfigReader& in) {
  const json* r = in.find("time_step_rank");
  if (!r || (r->is_string() && r->get<std::string>() == "auto")) {
    c.time_step_rank = (c.hidden_size + 15) / 16;  // math.ceil(hidden_size / 16)
    return;
  }
  c.time_step_rank = in.integer("time_step_rank", 0, 1, c.intermediate_size);
}

}  // namespace

void parse_mamba_config(ModelConfig& c, const json& j, const std::string& source) {
  ConfigReader in{j, source};
  for (const char* attention_key : {"num_attention_heads", "q_lora_rank", "kv_lora_rank", "num_local_experts"})
    if (in.find(attention_key))
      throw Error(source + ": MambaForCausalLM has no attention or experts, but config.json sets '" +
                  std::string(attention_key) + "'");
  c.hidden_size = in.integer("hidden_size", 0, 1, kMaxHidden, true);
  c.num_layers = in.integer("num_hidden_layers", in.integer("n_layer", 0, 1, kMaxLayers), 1, kMaxLayers, !in.find("n_layer"));
  c.vocab_size = in.integer("vocab_size", 50280, 1, kMaxVocab);
  c.ssm_state_size = in.integer("state_size", 16, 1, kMaxState);
  c.conv_kernel = in.integer("conv_kernel", 4, 1, kMaxKernel);
  const int64_t expand = in.integer("expand", 2, 1, kMaxExpand);
  c.intermediate_size = expand * c.hidden_size;
  const int64_t written = in.integer("intermediate_size", c.intermediate_size, 1, kMaxExpand * kMaxHidden);
  if (written != c.intermediate_size)
    throw Error(source + ": 'intermediate_size' is " + std::to_string(written) + " but expand (" + std::to_string(expand) +
                ") x hidden_size (" + std::to_string(c.hidden_size) + ") is " + std::to_string(c.intermediate_size));
  read_time_step_rank(c, in);
  c.rms_norm_eps = in.real("layer_norm_epsilon", 1e-5, 0.0, true, 1.0);
  c.mixer_bias = in.boolean("use_bias", true);
  c.conv_bias = in.boolean("use_conv_bias", true);
  c.residual_in_fp32 = in.boolean("residual_in_fp32", true);
  c.tie_word_embeddings = in.boolean("tie_word_embeddings", true);
  c.hidden_act = in.string("hidden_act", "silu");
  if (c.hidden_act != "silu")
    throw Error(source + ": activation '" + c.hidden_act + "' is not supported for MambaForCausalLM (supported: silu)");
  c.dtype = in.string("dtype", in.string("torch_dtype", "float32"));
  c.max_position_embeddings = int64_t(1) << 30;  // no positions: any length
  c.num_heads = c.num_kv_heads = c.head_dim = 0;
}

json mamba_hf_json(const ModelConfig& c) {
  return {{"architectures", {c.architecture}},
          {"model_type", "mamba"},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"expand", c.intermediate_size / c.hidden_size},
          {"num_hidden_layers", c.num_layers},
          {"vocab_size", c.vocab_size},
          {"state_size", c.ssm_state_size},
          {"conv_kernel", c.conv_kernel},
          {"time_step_rank", c.time_step_rank},
          {"layer_norm_epsilon", c.rms_norm_eps},
          {"use_bias", c.mixer_bias},
          {"use_conv_bias", c.conv_bias},
          {"residual_in_fp32", c.residual_in_fp32},
          {"tie_word_embeddings", c.tie_word_embeddings},
          {"hidden_act", c.hidden_act},
          {"torch_dtype", c.dtype},
          {"bos_token_id", 0},
          {"eos_token_id", 0},
          {"pad_token_id", 0}};
}

}  // namespace ptq
