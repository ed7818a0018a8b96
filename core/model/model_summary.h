#pragma once
// What a user sees of a checkpoint before running anything: architecture, shapes, parameter
// count, dtype, size on disk and every linear layer. Plain data (no torch types), so the GUI
// and `ptq inspect` share it.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/model_config.h"

namespace ptq {

struct LinearSummary {
  std::string name;  // "layers.3.mlp.down_proj"
  std::string type;  // q, k, v, o, gate, up, down, router
  int64_t out_features = 0, in_features = 0;
  bool bias = false;
};

struct ModelSummary {
  std::string dir;
  ModelConfig config;
  int64_t parameters = 0;
  std::string stored_dtype;  // of the embedding tensor (F32, BF16, ...)
  uint64_t size_on_disk = 0;
  std::string tokenizer;     // path of tokenizer.json or ""
  std::vector<LinearSummary> linears;

  nlohmann::json to_json() const;
};

// Opens and validates the checkpoint (reads headers only, no weights). Throws ptq::Error.
ModelSummary summarize_checkpoint(const std::string& dir);

}  // namespace ptq
