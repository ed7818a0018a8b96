#pragma once
// What rotate_model (quant/pipeline/block_stage.h) does to a model of a given shape: which
// Hadamard steps run, with which base order K (hadamard.h), and which requested steps cannot run.
// rotate_model follows this plan, and the pipeline writes it into the record's parameters, so the
// record says what ran rather than what was asked for.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/model_config.h"

namespace ptq {

struct RotationPlan {
  std::string rotation;          // the residual-stream rotation that runs: "hadamard" or "orthogonal"
  int64_t rotation_order = 0;    // K of the stream Hadamard (hidden = K·2^m); 0 for "orthogonal"
  bool headwise = false;         // Hadamard on each value head (undone in o_proj)
  int64_t headwise_order = 0;    // K for head_dim, when headwise
  bool online = false;           // online Hadamard on the down_proj / w2 inputs
  int64_t online_order = 0;      // K for intermediate_size, when online
  std::vector<std::string> not_run;  // each requested step that cannot run, and why
};

// params: the rotate stage's resolved parameters (rotation, online_hadamard, headwise_hadamard).
// Throws ptq::Error for an unknown rotation kind.
RotationPlan plan_rotation(const ModelConfig& c, const nlohmann::json& params);

// params with what ran: rotation, online_hadamard and headwise_hadamard as run (true only when
// the step ran), their base orders (rotation_K, online_hadamard_K, headwise_hadamard_K; null when
// the step did not run) and not_run (the reasons, an empty list when everything asked for ran).
nlohmann::json rotation_record(const ModelConfig& c, const nlohmann::json& params);

}  // namespace ptq
