#pragma once
// What a quantization run measured for every layer and block; part of the result record.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

struct LayerRecord {
  std::string name;  // "layers.3.mlp.down_proj"
  std::string type;  // q, k, v, o, gate, up, down
  int block = 0;
  int64_t out_features = 0, in_features = 0;
  bool quantized = false;
  int bits = 16;
  int64_t group_size = -1;
  std::string format;
  double weight_rel_error = 0;  // ||W - Ŵ|| / ||W||
  double out_rel_mse = -1;      // ||XWᵀ - XŴᵀ||² / ||XWᵀ||² on calibration inputs (-1: no calibration)
  double out_cosine = -1;       // mean over tokens of cos(XWᵀ, XŴᵀ)
  double method_loss = -1;      // the method's own objective (GPTQ error), -1 when none
  int64_t calib_tokens = 0;     // tokens this layer saw (experts: those routed to it)
  int64_t storage_bytes = 0;    // of the quantized form (codes + scales + zeros)
  double seconds = 0;
  std::string note;             // e.g. "no calibration tokens: RTN fallback"
  nlohmann::json to_json() const;
  static LayerRecord from_json(const nlohmann::json& j);
};

struct BlockRecord {
  int block = 0;
  double out_rel_mse = -1;  // quantized block vs full-precision block on the same inputs
  double seconds = 0;
  nlohmann::json to_json() const;
};

}  // namespace ptq
