#pragma once
// Reading back the activation and KV-cache settings from their to_json() forms, as quantized
// artifacts store them (quant/pipeline/quantized_export.h). Torch-free (ptq_spec).
#include <nlohmann/json.hpp>

#include "quant/formats/act_spec.h"
#include "quant/kvcache/kv_cache_spec.h"

namespace ptq {

// The inverse of ActQuantSpec::to_json: {} gives a disabled spec; the result is validated
// (ptq::Error naming the key or value otherwise).
ActQuantSpec act_spec_from_json(const nlohmann::json& j);
// The inverse of KvCacheSpec::to_json (null: off), validated.
KvCacheSpec kv_spec_from_json(const nlohmann::json& j);

}  // namespace ptq
