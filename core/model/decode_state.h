#pragma once
// The state of incremental decoding (Model::forward_cached): per block, what a later step reads
// from the earlier tokens, and per batch row which cache slots hold real tokens (left padding).
//   attention: K and V of every slot so far, as attention reads them (K after its q/k norm and
//              rope at the token's absolute position; MLA: the expanded per-head key and value),
//              full precision; a quantized KV cache (Model::set_kv_cache) is read through
//              attend_with_kv_cache, which sees quantized entries for the slots outside the
//              KIVI residual window, exactly as the full-sequence simulation does.
//   Mamba:     the conv's last K−1 inputs and the selective scan's state h.
#include <ATen/ATen.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace ptq {

struct BlockCache {
  at::Tensor k, v;     // [B, heads, S, head_dim] (attention; MLA: Nh heads of qk / v dims)
  at::Tensor conv;     // [B, K−1, I] Mamba conv inputs (pad tokens zeroed)
  at::Tensor ssm;      // [B, I, N] float32 Mamba state
};

struct DecodeState {
  std::vector<BlockCache> blocks;  // one per block, filled by the first forward_cached
  at::Tensor real;                 // [B, S] bool: slot holds a real token (false: left padding)
  at::Tensor next_position;        // [B] long: absolute position of each row's next token
  int64_t length() const { return real.defined() ? real.size(1) : 0; }
  int64_t batch() const { return real.defined() ? real.size(0) : 0; }
};

// Appends k, v [B, H, T_new, D] to the cache's slots (dim 2); returns the whole K and V [B, H, S, D].
inline std::pair<at::Tensor, at::Tensor> append_kv(BlockCache& c, const at::Tensor& k, const at::Tensor& v) {
  c.k = c.k.defined() ? at::cat({c.k, k}, 2) : k.contiguous();
  c.v = c.v.defined() ? at::cat({c.v, v}, 2) : v.contiguous();
  return {c.k, c.v};
}

}  // namespace ptq
