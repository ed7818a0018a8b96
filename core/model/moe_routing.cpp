#include "core/model/moe_routing.h"

#include "core/model/decoder_block.h"

namespace ptq {

std::pair<at::Tensor, at::Tensor> deepseek_route(const at::Tensor& router_logits, const at::Tensor& bias,
                                                 const ModelConfig& c) {
  const int64_t E = c.num_experts, G = c.deepseek.n_group, N = router_logits.size(0);
  at::Tensor scores = router_logits.sigmoid();
  at::Tensor choice = bias.defined() ? scores + bias.to(scores.device()).unsqueeze(0) : scores;  // get_topk_indices
  at::Tensor group_scores = std::get<0>(choice.view({N, G, E / G}).topk(2, -1)).sum(-1);     // [N, G]
  at::Tensor group_idx = std::get<1>(group_scores.topk(c.deepseek.topk_group, -1, true, false));
  at::Tensor group_mask = at::zeros_like(group_scores).scatter_(1, group_idx, 1.0);
  at::Tensor score_mask = group_mask.unsqueeze(-1).expand({N, G, E / G}).reshape({N, E});
  choice = choice.masked_fill(score_mask.logical_not(), 0.0);
  at::Tensor idx = std::get<1>(choice.topk(c.experts_per_token, -1, true, false));
  at::Tensor w = scores.gather(1, idx);
  if (c.norm_topk_prob) w = w / (w.sum(-1, true) + 1e-20);
  return {idx, w * c.deepseek.routed_scaling_factor};
}

// DeepseekV3MoE.forward of transformers 5 (route_tokens_to_experts, then DeepseekV3NaiveMoe's eager
// loop, the same as MixtralExperts): the router on float32 inputs and weights; each expert's output
// times its float32 weight, cast to the hidden dtype and index_add'ed into zeros of that dtype; plus
// the shared experts on every token.
at::Tensor DecoderBlock::deepseek_moe(const at::Tensor& x, const BlockContext& ctx) const {
  const int64_t H = x.size(-1);
  at::Tensor flat = x.reshape({-1, H});
  const Linear& gate = linear("mlp.gate");
  at::Tensor logits = at::linear(flat.to(at::kFloat), gate.weight.to(at::kFloat));
  if (ctx.observer) ctx.observer->on_linear(index_, gate, flat, logits.to(flat.scalar_type()));
  auto routed = deepseek_route(logits, score_bias, *cfg_);
  const at::Tensor& idx = routed.first;
  const at::Tensor& w = routed.second;
  at::Tensor out = at::zeros_like(flat);
  for (int64_t e = 0; e < cfg_->num_experts; ++e) {
    at::Tensor hit = idx.eq(e);  // [N, k]; an expert appears at most once per token
    at::Tensor rows = hit.any(-1).nonzero().squeeze(-1);
    if (rows.numel() == 0) continue;
    at::Tensor we = (w * hit.to(at::kFloat)).sum(-1).index_select(0, rows);
    at::Tensor ye = gated_mlp("mlp.experts." + std::to_string(e) + ".", flat.index_select(0, rows), ctx);
    out.index_add_(0, rows, (ye * we.unsqueeze(-1)).to(out.scalar_type()));
  }
  at::Tensor y = out.view(x.sizes());
  if (cfg_->deepseek.n_shared_experts > 0) y = y + gated_mlp("mlp.shared_experts.", x, ctx);
  return y;
}

}  // namespace ptq
