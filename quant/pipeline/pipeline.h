#pragma once
// Quantizing a model: the method's stages (model transform, block transform, quantizer) run
// block by block on the engine's offload, so peak device memory is about one block plus its
// calibration activations. Inputs of block i+1 come from the already quantized block i (GPTQ's
// convention). Every quantized layer and every block gets an error record.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "quant/pipeline/calibration.h"
#include "quant/pipeline/layer_record.h"
#include "quant/pipeline/quant_plan.h"
#include "quant/formats/quantizer.h"
#include "quant/pipeline/calib_staging.h"

namespace ptq {

class Model;
class Tokenizer;

struct QuantRequest {
  std::string method = "rtn";     // "rtn", "gptq", "awq+gptq", "rotate+gptq", ...
  QuantPlan plan;
  nlohmann::json params = nlohmann::json::object();  // user parameters ("percdamp" or "gptq.percdamp")
  CalibSpec calib;                // files empty: no calibration (RTN and rotation only)
  int64_t calib_batch = 8;        // calibration windows per forward pass
  uint64_t seed = 0;
  // Analyses of the transformed model (kurtosis after AWQ scales or rotation): called for every
  // block after its transforms (model- and block-level) ran and before it is quantized; the block
  // and its calibration inputs are on the device (BlockWork in quant/block_stage.h).
  std::function<void(struct BlockWork&)> after_transform;
  // Run the transforms only: no quantizer, no integer forms (the model stays full precision but
  // transformed; block i+1 sees the transformed block i's outputs).
  bool transform_only = false;
  // Keep every quantized layer's column-wise relative error (LayerRecord::column_rel_error).
  bool column_errors = false;
  // Where the calibration activations live between blocks (quant/pipeline/calib_staging.h).
  CalibStaging calib_staging = CalibStaging::Auto;
};

struct QuantResult {
  std::string method;
  nlohmann::json params;          // resolved, per stage
  QuantPlan plan;
  nlohmann::json calibration;     // description, or null
  std::vector<LayerRecord> layers;
  std::vector<BlockRecord> blocks;
  double seconds = 0;
  int64_t peak_gpu_bytes = 0;
  CalibStaging calib_staging = CalibStaging::Device;  // as resolved for this run
  std::map<std::string, QuantizedWeight> quantized;  // integer forms by full layer name (CPU)
  // Activation quantization (plan.act): calibrated static scales by full layer name (CPU; empty
  // for dynamic scales) and the record (act_install.h activation_record; null when off).
  std::map<std::string, at::Tensor> act_scales;
  nlohmann::json activations;
  nlohmann::json to_json() const;                     // everything but the integer forms
};

// Validates everything first (method, parameters, bits, groups against every layer, calibration
// text), then quantizes `model` in place. Throws ptq::Error, ptq::Cancelled.
QuantResult quantize_model(Model& model, const Tokenizer* tok, const QuantRequest& req, Feedback* fb = nullptr);

}  // namespace ptq
