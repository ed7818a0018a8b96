#pragma once
// A quantized KV cache, simulated in a full-sequence forward (perplexity): attention reads K and V
// as a decoder would read them from its cache. The engine's attention calls attend_with_kv_cache
// when BlockContext::kv_cache is set; the quantizer itself (formats, granularity, the KIVI
// residual window) is quant/kvcache/kv_cache_quantizer.h, behind this interface so core/ needs
// no quantizer code.
#include <ATen/ATen.h>

#include <cstdint>

namespace ptq {

class KvCacheQuantizer {
 public:
  virtual ~KvCacheQuantizer() = default;
  // k, v: [B, Hkv, T, D] as written into the cache (K after its q/k norm and rope); returns the
  // values a later query reads from the quantized cache (dequantized, same shape and dtype).
  virtual at::Tensor quantize_keys(const at::Tensor& k) const = 0;
  virtual at::Tensor quantize_values(const at::Tensor& v) const = 0;
  // [T, T] bool: true where query t reads key (value) j in full precision, as in decoding (the
  // residual window); an undefined tensor when every entry is read quantized.
  virtual at::Tensor full_precision_keys(int64_t T, at::Device d) const = 0;
  virtual at::Tensor full_precision_values(int64_t T, at::Device d) const = 0;
};

// softmax(q·k̃ᵀ·scale [soft-capped] + mask)·ṽ, where k̃ / ṽ hold, for each (query t, key j), the
// full-precision or the quantized entry as kv says. q [B, Hq, Tq, D]: the queries of the last Tq
// of the S positions (Tq = S in a full-sequence forward, fewer in incremental decoding); k, v
// [B, Hkv, S, D] (repeated for GQA after quantization, as the cache holds Hkv heads); mask
// additive [Tq, S] or [B, 1, Tq, S], or undefined (causal); softcap 0 = none. Scores combine per
// entry: where(full, q·kᵀ, q·k̂ᵀ).
at::Tensor attend_with_kv_cache(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                                double scale, double softcap, const KvCacheQuantizer& kv);

}  // namespace ptq
