#pragma once
// What a quantization run measured for every layer and block; part of the result record.
// A value that was not measured is NaN here and JSON null in the record: the output errors of a
// run without calibration text, the weight error of a layer left in full precision (skipped,
// routers), the method loss of a method without an objective.
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

inline constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();
inline bool measured(double v) { return !std::isnan(v); }

struct LayerRecord {
  std::string name;  // "layers.3.mlp.down_proj"
  std::string type;  // q, k, v, o, gate, up, down
  int block = 0;
  int64_t out_features = 0, in_features = 0;
  bool quantized = false;
  int bits = 16;
  int64_t group_size = -1;
  std::string format;
  double weight_rel_error = kNotMeasured;  // ||W - Ŵ|| / ||W|| (quantized layers)
  double out_rel_mse = kNotMeasured;       // ||XWᵀ - XŴᵀ||² / ||XWᵀ||² on calibration inputs
  double out_cosine = kNotMeasured;        // mean over tokens of cos(XWᵀ, XŴᵀ)
  double method_loss = kNotMeasured;       // the method's own objective (GPTQ error)
  // QuIP: μ = max|W_ij|·sqrt(m·n)/‖W‖_F of the weight before and after incoherence processing
  // (quant/methods/quip/incoherence.h); not measured for other methods.
  double incoherence_before = kNotMeasured, incoherence_after = kNotMeasured;
  int64_t calib_tokens = 0;     // tokens this layer saw (experts: those routed to it)
  int64_t storage_bytes = 0;    // of the quantized form in the packed layout (codes + scales + zeros)
  double seconds = 0;
  std::string note;             // e.g. "no calibration tokens: RTN fallback"
  // Per input column ‖W[:,j] − Ŵ[:,j]‖ / ‖W[:,j]‖ (quant/pipeline/column_error.h) when the request
  // asked for it (QuantRequest::column_errors); not part of to_json: the column_error analysis
  // writes it (analyses.column_error).
  std::vector<float> column_rel_error;
  nlohmann::json to_json() const;
  // Reads null or absent values as not measured, and so the -1 sentinels of records written
  // before null was used (out_rel_mse, out_cosine, method_loss; weight error of unquantized layers).
  static LayerRecord from_json(const nlohmann::json& j);
};

struct BlockRecord {
  int block = 0;
  double out_rel_mse = kNotMeasured;  // quantized block vs full-precision block on the same inputs
  double seconds = 0;
  nlohmann::json to_json() const;
};

// A measured value as JSON, null when not measured.
nlohmann::json measured_json(double v);

}  // namespace ptq
