#pragma once
// The KV-cache quantizer of a KvCacheSpec (conventions: kv_cache_spec.h, after KIVI), behind
// core/model/kv_cache.h's interface: Model::set_kv_cache(make_kv_cache_quantizer(spec, config)).
#include <ATen/ATen.h>

#include <memory>

#include "core/model/kv_cache.h"
#include "quant/kvcache/kv_cache_spec.h"

namespace ptq {

// Validates the spec against the model (validate_for) and builds the quantizer.
std::shared_ptr<const KvCacheQuantizer> make_kv_cache_quantizer(const KvCacheSpec& spec, const ModelConfig& c);

// Fake quantization of x [..., n] in groups of `group` consecutive elements of the last dim
// (group == n: one group per row), INT asymmetric as KIVI or FP8 with an absmax scale; float32
// arithmetic, result in x's dtype. Exposed for tests.
at::Tensor kv_fake_quantize_last_dim(const at::Tensor& x, int64_t group, int bits, const std::string& format);

}  // namespace ptq
