#pragma once
// Which weight-folding transforms an architecture admits. AWQ folds scales into the op before a
// group of linears and rotation folds RMSNorm weights and an orthogonal matrix into the residual
// stream's readers and writers; both assume Llama's block (one norm before q,k,v and one before
// the MLP, plain w·x̂ norms, separate projections). The pipeline asks before running either.
#include <nlohmann/json.hpp>
#include <string>

#include "core/io/model_config.h"

namespace ptq {

// "" when the stage can run on this architecture, else the reason it cannot ("awq", "rotate",
// "smoothquant", "osplus";
// every other stage id is ""). `params` are the stage's parameters (rotation: online_hadamard).
std::string transform_refusal(const ModelConfig& c, const std::string& stage_id,
                              const nlohmann::json& params = nlohmann::json::object());

// "" when the architecture's attention writes per-head K and V that a KV-cache quantizer can read
// (core/model/kv_cache.h), else the reason it cannot (Mamba has no KV cache; DeepSeek-V3's MLA
// caches a compressed latent).
std::string kv_cache_refusal(const ModelConfig& c);

}  // namespace ptq
