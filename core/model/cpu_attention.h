#pragma once
// Causal self-attention for float32 on the CPU, in tiles that stay in cache: softmax(q·kᵀ·scale
// [soft-capped] + causal mask)·v without the [B, H, T, T] score tensors of the matmul path, without
// repeat_kv's copies of K and V (query heads read their KV head in place), and without the products
// above the diagonal that the mask discards. Rows run in parallel on LibTorch's intra-op threads; the
// score and value products are register-tiled loops (AVX2 + FMA where the processor has them), the
// softmax is LibTorch's own kernel on each row tile. Each row's result depends on that row alone
// (not on the batch, the head count or the thread count): the same token gives the same output in
// any batch. Against the matmul path the products sum in another order (float32 rounding only).
#include <ATen/ATen.h>

namespace ptq {

// True where cpu_causal_attention takes these operands: CPU float32 tensors q [B, Hq, T, D], k and v
// [B, Hkv, T, D] (Hq a multiple of Hkv, the same T: no cache), no gradient wanted.
// PTQ_NO_CPU_ATTENTION=1 turns it off (the matmul path).
bool cpu_causal_attention_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

// [B, Hq, T, D]: for each query row i, softmax_j≤i(s_ij)·v_j with s_ij = (q_i·k_j)·scale, then
// tanh(s/softcap)·softcap when softcap > 0 (Gemma 2). The result is a transposed view of a contiguous
// [B, T, Hq, D] tensor, so `o.transpose(1, 2).reshape({B, T, Hq * D})` copies nothing.
at::Tensor cpu_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                                double softcap);

}  // namespace ptq
