#pragma once
// A Hugging Face checkpoint folder: config.json plus model.safetensors or a sharded
// model.safetensors.index.json. Tensors are read lazily, one at a time.
// A quantized checkpoint (config.json's quantization_config: GPTQ v1/v2, AWQ GEMM,
// compressed-tensors; core/io/hf_quant_config.h) presents each quantized module's weight as a
// float32 "<module>.weight" dequantized when it is loaded (so a streamed model dequantizes block
// by block); its stored parts (qweight, qzeros, scales, g_idx, weight_packed, ...) are not listed.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/hf_quant_decode.h"
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
  bool has(const std::string& name) const { return where_.count(name) > 0 || dequantized_info_.count(name) > 0; }
  const TensorInfo& info(const std::string& name) const;
  // CPU tensor in the stored dtype.
  at::Tensor load(const std::string& name) const;
  // In pinned host memory (for an asynchronous copy to a GPU): stored tensors are read straight
  // into it; dequantized ones are copied there.
  at::Tensor load_pinned(const std::string& name) const;
  std::vector<std::string> tensor_names() const;
  uint64_t size_on_disk() const;
  std::string stored_dtype() const;  // dtype of the embedding tensor, as stored
  // tokenizer.json beside the weights, or "" when there is none.
  std::string tokenizer_path() const;

  // Quantized checkpoints: what was read (quant_method, format, bits, group_size, sym, desc_act,
  // the GPTQ zero convention used and why, number of quantized modules); null for a plain one.
  const nlohmann::json& quantization() const { return quantization_; }
  bool is_quantized(const std::string& weight_key) const { return quantized_.count(weight_key) > 0; }
  // The integer form of a quantized module's weight ("model.layers.0.mlp.down_proj.weight").
  HfLinearForm quantized_form(const std::string& weight_key) const;

 private:
  std::string dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;
  // Quantized checkpoints: weight key -> module, the dequantized weights' infos, the stored parts.
  std::shared_ptr<HfQuantConfig> hf_quant_;
  std::map<std::string, std::pair<std::string, HfQuantizedModule>> quantized_;
  std::map<std::string, TensorInfo> dequantized_info_;
  std::map<std::string, bool> hidden_parts_;
  GptqZeros gptq_zeros_ = GptqZeros::V1;
  nlohmann::json quantization_;

  at::Tensor load_stored(const std::string& name) const;
  HfTensorSource stored_source() const;
  void open_quantized(const nlohmann::json& qc);
};

}  // namespace ptq
