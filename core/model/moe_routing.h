#pragma once
// DeepSeek-V3's routed mixture of experts (DeepseekV3TopkRouter and DeepseekV3MoE of transformers'
// modeling_deepseek_v3.py): sigmoid scores; e_score_correction_bias added for the choice only;
// grouped top-k (a group's score is the sum of its top 2; the topk_group best groups stay, the other
// experts' choice scores become 0); the chosen experts' sigmoid scores, renormalised when
// norm_topk_prob (+1e-20), times routed_scaling_factor.
#include <ATen/ATen.h>

#include <utility>

#include "core/io/model_config.h"

namespace ptq {

// router_logits: float32 [N, experts]; bias: [experts] (undefined = zeros).
// Returns (indices [N, k] int64, weights float32 [N, k]).
std::pair<at::Tensor, at::Tensor> deepseek_route(const at::Tensor& router_logits, const at::Tensor& bias,
                                                 const ModelConfig& c);

}  // namespace ptq
