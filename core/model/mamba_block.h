#pragma once
// A Mamba-1 block (transformers' MambaBlock with MambaMixer.slow_forward, modeling_mamba.py):
//   out = residual + mixer(RMSNorm(h)), residual = h in float32 when residual_in_fp32
//   mixer(x): (x, z) = in_proj(x); x = silu(causal depthwise conv1d(x)); (dt, B, C) = x_proj(x);
//             dt = softplus(dt_proj(dt)); y = selective_scan(x, dt, A = −exp(A_log), B, C) + D·x;
//             out_proj(y · silu(z))
// No attention and no KV cache: the state is the scan's h [D, N] and the conv's last K−1 inputs
// (BlockCache::ssm / conv in incremental decoding; padded inputs zeroed as transformers does with
// its attention_mask, so a left-padded row's state equals the unpadded one's).
#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

#include "core/model/block.h"

namespace ptq {

class MambaBlock : public Block {
 public:
  MambaBlock(const ModelConfig& c, int index);

  std::string kind() const override { return "mamba"; }
  at::Tensor forward(const at::Tensor& h, const BlockContext& ctx) const override;
  // The mixer on its normed input [B, T, hidden] -> [B, T, hidden], in the compute dtype.
  at::Tensor mixer(const at::Tensor& x, const BlockContext& ctx) const;

  std::vector<std::pair<std::string, at::Tensor*>> tensors() override;
  bool loaded() const override { return norm.defined(); }

  at::Tensor norm;         // norm.weight [hidden]
  at::Tensor conv_weight;  // mixer.conv1d.weight [I, 1, K]
  at::Tensor conv_bias;    // mixer.conv1d.bias [I] (use_conv_bias)
  at::Tensor A_log;        // mixer.A_log [I, N]
  at::Tensor D;            // mixer.D [I]

 private:
  // [B, T, I] -> silu(conv) [B, T, I]; `prefix` [B, K−1, I] are the inputs before x (undefined:
  // zeros); `tail`, if given, receives the last K−1 inputs (the next step's prefix).
  at::Tensor causal_conv(const at::Tensor& x, const at::Tensor& prefix, at::Tensor* tail) const;
};

}  // namespace ptq
