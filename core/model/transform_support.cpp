#include "core/model/transform_support.h"

namespace ptq {

namespace {

std::string awq_refusal(const ModelConfig& c) {
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

}  // namespace

std::string transform_refusal(const ModelConfig& c, const std::string& stage_id, const nlohmann::json& params) {
  if (stage_id == "awq") return awq_refusal(c);
  if (stage_id == "rotate") return rotation_refusal(c, params);
  return "";
}

}  // namespace ptq
