#include "core/model/transform_support.h"

namespace ptq {

namespace {

// Mamba-1 (PTQ-Bench): of the mixer's four projections only two have an exact fold for AWQ's
// per-input-channel scales: in_proj (into the block's norm.weight, which multiplies its input) and
// dt_proj (into x_proj's first time_step_rank rows, whose output it reads with nothing between).
// x_proj reads silu(conv1d(·)) and out_proj reads (scan + D·x)·silu(z): no linear op before them
// whose parameters could take the inverse scale, so they would be left unscaled. A partial AWQ
// (two of four layers) is not what the method measures; refused with the reason.
std::string mamba_awq_refusal(const ModelConfig& c) {
  return "AWQ cannot run on " + c.architecture +
         ": its scales fold only into in_proj (through the block norm) and dt_proj (through x_proj's dt rows); "
         "x_proj reads silu(conv1d(x)) and out_proj reads the gated scan output (scan + D*x)*silu(z), which no "
         "linear op before them can absorb, so AWQ's scales cannot be folded into the projections after the conv "
         "(use rtn, gptq or omniquant)";
}

std::string awq_refusal(const ModelConfig& c) {
  if (c.is_mamba()) return mamba_awq_refusal(c);
  const std::string a = "AWQ cannot run on " + c.architecture + ": ";
  if (c.sandwich_norms)
    return a + "the MLP reads pre_feedforward_layernorm and the attention output passes post_attention_layernorm "
               "before the residual add, so AWQ's groups (input_layernorm -> q,k,v; post_attention_layernorm -> "
               "gate,up) do not fold into this block, and its (1+w) norms are not folded";
  if (c.fused_qkv || c.fused_gate_up)
    return a + "fused qkv_proj / gate_up_proj: the v_proj -> o_proj and up_proj -> down_proj scales would divide "
               "a slice of a fused layer's rows, which AWQ's scale groups do not address";
  if (c.moe_layout == "qwen")
    return a + "AWQ's expert scale groups know Mixtral's block_sparse_moe layout, not Qwen's mlp.experts / "
               "shared_expert";
  return "";
}

std::string rotation_refusal(const ModelConfig& c, const nlohmann::json& params) {
  const std::string a = "rotation cannot run on " + c.architecture + ": ";
  // PTQ-Bench: the rotation cannot be fused across the mixer. The causal conv1d, silu, selective
  // scan and silu(z) gate act channel by channel, so a rotation of in_proj's outputs (the analogue of
  // QuaRot's per-head v -> o rotation) has nothing linear to fold into before x_proj / out_proj. Only
  // the residual-stream rotation (norm weight folded into in_proj, Q into in_proj and out_proj) would
  // fold; this stage's plan (per-head Hadamard, q/k/v/gate/up readers) is built for attention blocks.
  if (c.is_mamba())
    return a + "the causal conv1d, silu, selective scan and silu(z) gate act per channel, so a rotation cannot be "
               "fused across the mixer (in_proj's outputs to x_proj / out_proj); only the residual stream's "
               "readers and writers (in_proj, out_proj) would take one, which this rotation (built for attention "
               "blocks: per-head Hadamard on v -> o, q/k/v/gate/up readers) does not plan (use rtn, gptq or omniquant)";
  if (c.sandwich_norms)
    return a + "post_attention_layernorm and post_feedforward_layernorm scale the attention and MLP outputs "
               "element-wise before the residual add, so a rotation of the residual stream cannot be folded "
               "through them (and (1+w) norms are not folded)";
  if (c.fused_qkv || c.fused_gate_up)
    return a + "fused qkv_proj / gate_up_proj: the per-head Hadamard on v and the norm folding address "
               "separate q/k/v_proj and gate/up_proj";
  const bool online = params.is_object() && params.contains("online_hadamard") && params["online_hadamard"].is_boolean()
                          ? params["online_hadamard"].get<bool>()
                          : true;
  if (online && (c.moe_layout == "qwen" || c.moe_layout == "deepseek") &&
      (c.expert_intermediate_size() != c.intermediate_size ||
       (c.shared_expert_intermediate_size > 0 && c.shared_expert_intermediate_size != c.intermediate_size) ||
       (c.mla && c.deepseek.n_shared_experts * c.moe_intermediate_size != c.intermediate_size &&
        c.deepseek.n_shared_experts > 0)))
    return a + "the online Hadamard on down_proj inputs is planned for intermediate_size " +
           std::to_string(c.intermediate_size) + " but experts' down_proj inputs are " +
           std::to_string(c.expert_intermediate_size()) +
           (c.shared_expert_intermediate_size > 0
                ? " and the shared expert's " + std::to_string(c.shared_expert_intermediate_size)
                : c.mla && c.deepseek.n_shared_experts > 0
                ? " and the shared experts' " + std::to_string(c.moe_intermediate_size * c.deepseek.n_shared_experts)
                : std::string()) +
           " (run with online_hadamard=false)";
  return "";
}

// SmoothQuant / OS+ fold into the norms before each block's linear groups (scale_fold.h), which
// exist for every attention + MLP layout the engine runs, Gemma's (1+w) norms included.
std::string smoothing_refusal(const ModelConfig& c, const std::string& id) {
  const std::string a = id + " cannot run on " + c.architecture + ": ";
  if (c.architecture == "DeepseekV3ForCausalLM")
    return a + "multi-head latent attention: input_layernorm feeds q_a_proj / kv_a_proj_with_mqa and the "
               "latent norms feed q_b_proj / kv_b_proj, groups the smoothing fold table does not list";
  if (c.architecture == "MambaForCausalLM")
    return a + "a Mamba mixer has no attention / MLP linear groups (in_proj, x_proj, dt_proj, out_proj) in the "
               "smoothing fold table";
  return "";
}

}  // namespace

std::string transform_refusal(const ModelConfig& c, const std::string& stage_id, const nlohmann::json& params) {
  if (stage_id == "awq") return awq_refusal(c);
  if (stage_id == "rotate") return rotation_refusal(c, params);
  if (stage_id == "smoothquant" || stage_id == "osplus") return smoothing_refusal(c, stage_id);
  return "";
}

std::string kv_cache_refusal(const ModelConfig& c) {
  if (c.architecture == "MambaForCausalLM")
    return "KV-cache quantization cannot run on MambaForCausalLM: a Mamba model has no KV cache (its mixer keeps a "
           "fixed-size convolution and SSM state); drop the kv_* settings";
  if (c.architecture == "DeepseekV3ForCausalLM")
    return "KV-cache quantization cannot run on DeepseekV3ForCausalLM: multi-head latent attention caches the "
           "compressed latent (kv_lora_rank) and the rope key, not per-head K and V";
  return "";
}

}  // namespace ptq
