#pragma once
// What a result record says about where it came from (engine side: opens the checkpoint and asks
// LibTorch about the device).
#include <nlohmann/json.hpp>
#include <string>

namespace ptq {

// Provenance of the current process and a checkpoint: git commit, device description, LibTorch and
// CUDA versions, host, and the model's path, name, architecture, parameter count and sha256 of
// config.json and of the tensor index (names, dtypes, shapes).
nlohmann::json model_provenance(const std::string& model_dir);
nlohmann::json runtime_provenance(const std::string& device);

}  // namespace ptq
