#pragma once
// A Hugging Face checkpoint folder: config.json plus model.safetensors or a sharded
// model.safetensors.index.json. Tensors are read lazily, one at a time, from memory maps.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/model_config.h"
#include "core/io/safetensors.h"

namespace ptq {

class Checkpoint {
 public:
  // Opens and validates: config parses, architecture supported, every expected tensor present
  // with the shape config.json implies. Throws ptq::Error naming the file and the tensor.
  static std::shared_ptr<Checkpoint> open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  bool has(const std::string& name) const { return where_.count(name) > 0; }
  const TensorInfo& info(const std::string& name) const;
  // CPU tensor in the stored dtype.
  at::Tensor load(const std::string& name) const;
  std::vector<std::string> tensor_names() const;
  uint64_t size_on_disk() const;
  std::string stored_dtype() const;  // dtype of the embedding tensor, as stored
  // tokenizer.json beside the weights, or "" when there is none.
  std::string tokenizer_path() const;

 private:
  std::string dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;
};

}  // namespace ptq
