#pragma once
// Random-weight checkpoints with the exact shapes of real models, so benchmarks and tests
// need no download. Written as a normal Hugging Face folder (sharded like the hub does).
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "core/io/model_config.h"

namespace ptq {

struct MakeCheckpointOptions {
  std::string like;               // preset name, see checkpoint_presets()
  std::string out_dir;
  std::string dtype = "bfloat16";
  int64_t layers = 0;             // 1..65536 overrides the preset's layer count, 0 keeps it; <0 is an error
  uint64_t seed = 0;
  double init_std = 0.02;
  int64_t shard_bytes = int64_t(4) << 30;
  std::string tokenizer;          // tokenizer.json to copy beside the weights (optional)
};

const std::vector<std::string>& checkpoint_presets();
ModelConfig preset_config(const std::string& like);  // throws ptq::Error listing the presets
// Mamba-1 shapes (make_checkpoint_mamba.cpp): their names, the config of one (nullopt for any other
// name), and the initial value of a mixer tensor (A_log, D, conv1d, dt_proj.bias; undefined for the rest).
const std::vector<std::string>& mamba_presets();
std::optional<ModelConfig> mamba_preset_config(const std::string& like);
at::Tensor mamba_initial_tensor(const std::string& name, const std::vector<int64_t>& shape);
// The later families' hub shapes (make_checkpoint_families.cpp: qwen3-8b, qwen3-30b-a3b, gemma-2-9b,
// gemma-3-12b, phi-3-mini): their names, and the hub config.json of one with `layers` (> 0) and
// `dtype` set (nullopt for any other name). make_checkpoint writes that JSON as the config.
const std::vector<std::string>& family_presets();
std::optional<nlohmann::json> family_preset_json(const std::string& like, int64_t layers, const std::string& dtype);
// Returns the config written.
ModelConfig make_checkpoint(const MakeCheckpointOptions& o, Feedback* fb = nullptr);

}  // namespace ptq
