#pragma once
// Per-channel scale folds shared by AWQ, SmoothQuant and OS+: a group of linear layers that read
// the same input (the output of an RMSNorm or of one preceding linear) has its input columns
// multiplied by s and the preceding op divided by s, so the block computes the same function while
// the layers see x / s. AWQ (quant/methods/awq/awq.cpp) builds its own groups in llm-awq's order;
// SmoothQuant and OS+ use norm_scale_groups (every architecture the engine runs, LLMC's
// filter_subset: norm-preceded groups only) and, on request, linear_scale_groups.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "core/io/model_config.h"
#include "core/model/decoder_block.h"

namespace ptq {

struct ScaleGroup {
  std::string name;             // for notes: "input_layernorm -> q,k,v"
  at::Tensor* norm = nullptr;   // the preceding RMSNorm weight, or
  bool norm_plus_one = false;   // Gemma: the norm scales by (1 + w), so (1 + w') = (1 + w) / s
  Linear* prev = nullptr;       // the preceding linear (its rows and bias are divided by s)
  std::vector<Linear*> layers;  // their input columns are multiplied by s
  std::string x_from;           // the layer whose input statistic drives the search (sees every token)
  bool latent = false;          // a norm inside the attention (DeepSeek's q_a / kv_a_layernorm): scored
                                // on the layer's own output error, as fc -> fc groups
};

// A group that could not be formed, with the reason (recorded on its layers' notes).
struct SkippedGroup {
  std::string name;
  std::vector<Linear*> layers;
  std::string reason;
};

// The groups fed by the block's norms: input_layernorm -> q,k,v (or Phi3's fused qkv_proj);
// the MLP's input norm (post_attention_layernorm, Gemma's pre_feedforward_layernorm) -> every
// layer that reads it: gate/up (fused gate_up_proj), or the router with every expert's gate/up
// (w1/w3) and Qwen2-MoE's shared expert and its gate, as smoothquant/smooth.py does for Mixtral.
std::vector<ScaleGroup> norm_scale_groups(DecoderBlock& b, const ModelConfig& c);

// The linear -> linear groups (as AWQ's): v_proj -> o_proj where v and o have the same shape (no
// GQA), and up -> down for the MLP, every expert and the shared expert. Groups that cannot fold
// (GQA, fused gate_up_proj rows) are returned in `skipped`.
std::vector<ScaleGroup> linear_scale_groups(DecoderBlock& b, const ModelConfig& c, std::vector<SkippedGroup>& skipped);

// False when a layer of the group has an online input transform (rotation's Hadamard before
// down_proj): the fold is only exact when the layer multiplies the preceding op's output.
bool foldable(const ScaleGroup& g);

// Folds s (float32 [in]) into the group: layer columns · s, the norm weight (or the preceding
// linear's rows and bias) / s. Exact in real arithmetic, done in float32 and cast back.
void apply_scale(const ScaleGroup& g, const at::Tensor& s);

// The tensors apply_scale changes, copied, so a search can try a scale and undo it.
struct GroupSnapshot {
  std::vector<at::Tensor> layer_weights;
  at::Tensor norm, prev_weight, prev_bias;
};
GroupSnapshot snapshot(const ScaleGroup& g);
void restore(const ScaleGroup& g, const GroupSnapshot& s);

}  // namespace ptq
