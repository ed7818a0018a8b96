#pragma once
// KV-cache quantization settings (torch-free: ptq_spec). The quantizer is kv_cache_quantizer.h.
//
// Conventions (KIVI, jy-yuan/KIVI quant/new_pack.py and models/llama_kivi.py):
//   INT b bits, asymmetric per group: mn = min, mx = max over the group, scale = (mx - mn)/(2^b - 1),
//   q = clamp(round((x - mn)/scale), 0, 2^b - 1), x̂ = q·scale + mn (mn kept in full precision, not
//   rounded to an integer zero point; a constant group reads back exactly). FP8 (E4M3 / E5M2):
//   scale = absmax / max|grid| per group, the element rounded to the format's grid.
//   granularity (of K; V is always per token, as KIVI):
//     token   - each token's head vector (one group of head_dim channels per token and KV head);
//     group   - each token's head vector in groups of `group` channels (K and V);
//     channel - K per channel over groups of `group` consecutive tokens (KIVI's key quantization);
//               a group can only be quantized once all its tokens are written, so the newest
//               incomplete group is read in full precision (as KIVI's full-precision key buffer).
//   residual N (KIVI's residual_length): the most recent tokens stay in full precision.
//     V, and K per token / group: query t reads keys j with t - N <= j <= t in full precision (KIVI's
//     value buffer: the N before t and t itself), older ones quantized; N = 0: every entry,
//     the current one included, is read quantized (K/V quantized as they are written).
//     K per channel: KIVI's chunked key buffer: query t reads j >= C·floor(t/C) in full precision,
//     C = N (a multiple of `group`, as KIVI asserts) or `group` when N = 0.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/model_config.h"

namespace ptq {

struct KvCacheSpec {
  int bits = 0;                     // 0 = full-precision cache (off); 2..8 (INT), 8 (FP8)
  std::string format = "int";       // int | fp8_e4m3 | fp8_e5m2
  std::string granularity = "token";  // token | group | channel
  int64_t group = 0;                // channels per group (group) or tokens per group (channel)
  int64_t residual = 0;             // full-precision window of the most recent tokens

  bool enabled() const { return bits > 0; }
  // Values and combinations, without a model; throws ptq::Error naming the key ("kv_bits", ...).
  void validate() const;
  // Against the model: group sizes against head_dim; a model without a KV cache is refused.
  void validate_for(const ModelConfig& c) const;
  // Run-id part, read like the literature: "kv4", "kv2-ch32-r128", "kv8-fp8_e4m3", "kv4-g64".
  std::string label() const;
  nlohmann::json to_json() const;  // {"bits", "format", "granularity", "group", "residual"}; null when off

  // Bytes the cache holds per token (all layers, K and V) once quantized: codes at `bits`, plus per
  // group an fp16 scale (and an fp16 min for INT), as KIVI stores them.
  double bytes_per_token(const ModelConfig& c) const;
  // Bytes at a context of L tokens: the quantized tokens as above, the residual window's (and the
  // incomplete key group's) tokens at 2 bytes per element (an fp16 / bf16 cache).
  double bytes_at_context(const ModelConfig& c, int64_t L) const;
};

const std::vector<std::string>& kv_formats();        // int, fp8_e4m3, fp8_e5m2
const std::vector<std::string>& kv_granularities();  // token, group, channel

// Full-precision cache bytes per token (2 bytes per element): the baseline of the size block.
double fp16_kv_bytes_per_token(const ModelConfig& c);

}  // namespace ptq
