#include "core/model/mamba_block.h"

#include "core/model/decoder_block.h"
#include "core/model/selective_scan.h"
#include "core/runtime/errors.h"

namespace ptq {

MambaBlock::MambaBlock(const ModelConfig& c, int index) : Block(c, index) {}

std::vector<std::pair<std::string, at::Tensor*>> MambaBlock::tensors() {
  const std::string p = block_key_prefix(*cfg_, index_);
  std::vector<std::pair<std::string, at::Tensor*>> v = {{p + "norm.weight", &norm},
                                                        {p + "mixer.conv1d.weight", &conv_weight}};
  if (cfg_->conv_bias) v.push_back({p + "mixer.conv1d.bias", &conv_bias});
  v.push_back({p + "mixer.A_log", &A_log});
  v.push_back({p + "mixer.D", &D});
  for (auto& l : linears_) {
    v.push_back({linear_weight_key(*cfg_, index_, l.spec.name), &l.weight});
    if (l.spec.bias) v.push_back({linear_bias_key(*cfg_, index_, l.spec.name), &l.bias});
  }
  return v;
}

at::Tensor MambaBlock::forward(const at::Tensor& h, const BlockContext& ctx) const {
  if (!loaded()) throw Error("block " + std::to_string(index_) + " used before its weights were loaded");
  // MambaBlock.forward: the norm reads h cast to the weights' dtype; the residual stays float32.
  const at::Tensor residual = cfg_->residual_in_fp32 ? h.to(at::kFloat) : h;
  const at::Tensor x = rms_norm(h.to(norm.scalar_type()), norm, cfg_->rms_norm_eps);
  return residual + mixer(x, ctx);
}

at::Tensor MambaBlock::causal_conv(const at::Tensor& x, const at::Tensor& prefix, at::Tensor* tail) const {
  // nn.Conv1d(groups=I, padding=K−1) on [B, I, T] with the first T outputs kept is, per channel,
  // y_t = bias + Σ_k w[k]·x_{t+k−(K−1)} (zeros before the start): K shifted products, written out
  // so CUDA runs plain float arithmetic (cuDNN may pick TF32 for convolutions). In decoding the
  // K−1 inputs before x come from the cache instead of zeros (MambaMixer's conv_states).
  const int64_t T = x.size(1), K = conv_weight.size(-1);
  // Accumulated in float32 and rounded once to the compute dtype, as a bf16 convolution does.
  const at::Tensor xp = prefix.defined() ? at::cat({prefix.to(at::kFloat), x.to(at::kFloat)}, 1)
                                         : at::constant_pad_nd(x.to(at::kFloat), {0, 0, K - 1, 0});  // [B, K−1+T, I]
  if (tail) *tail = xp.narrow(1, T, K - 1).to(x.scalar_type());
  const at::Tensor w = conv_weight.select(1, 0).to(at::kFloat);                    // [I, K]
  at::Tensor y = xp.narrow(1, 0, T) * w.select(1, 0);
  for (int64_t k = 1; k < K; ++k) y = y + xp.narrow(1, k, T) * w.select(1, k);
  if (conv_bias.defined()) y = y + conv_bias.to(at::kFloat);
  return at::silu(y.to(x.scalar_type()));
}

at::Tensor MambaBlock::mixer(const at::Tensor& x, const BlockContext& ctx) const {
  const int64_t I = cfg_->intermediate_size, R = cfg_->time_step_rank, N = cfg_->ssm_state_size;
  BlockCache* cache = ctx.cache;
  // transformers' MambaMixer multiplies by the attention mask before and after the conv: padded
  // tokens then add nothing to the conv window or the state (u = dt·x = 0).
  const at::Tensor pad = ctx.token_mask.defined() ? ctx.token_mask.unsqueeze(-1).to(x.scalar_type()) : at::Tensor();
  at::Tensor xz = run("mixer.in_proj", x, ctx);  // [B, T, 2I]: x | z
  at::Tensor xin = xz.narrow(-1, 0, I);
  if (pad.defined()) xin = xin * pad;
  at::Tensor xs = causal_conv(xin, cache ? cache->conv : at::Tensor(), cache ? &cache->conv : nullptr);
  if (pad.defined()) xs = xs * pad;
  at::Tensor z = xz.narrow(-1, I, I);
  at::Tensor p = run("mixer.x_proj", xs, ctx);  // [B, T, R + 2N]: dt | B | C
  at::Tensor dt = at::softplus(run("mixer.dt_proj", p.narrow(-1, 0, R), ctx), 1, 20);
  at::Tensor A = -at::exp(A_log.to(at::kFloat));
  at::Tensor y = selective_scan(xs, dt, A, p.narrow(-1, R, N), p.narrow(-1, R + N, N), ctx.scan_chunk,
                                cache ? &cache->ssm : nullptr, cache ? cache->ssm : at::Tensor());
  y = y.to(xs.scalar_type()) + xs * D;
  return run("mixer.out_proj", y * at::silu(z), ctx);
}

}  // namespace ptq
