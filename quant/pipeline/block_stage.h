#pragma once
// The contract between the pipeline and a strategy. The pipeline runs block by block: block i is
// on the device with its calibration inputs (outputs of the already quantized block i-1) and the
// outputs the full-precision block gives for them; a BlockTransform (AWQ) rewrites weights
// equivalently, then the Quantizer (RTN, GPTQ, OmniQuant) replaces each planned linear weight by
// its quantized version and fills the layer records.
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model/decoder_block.h"
#include "core/runtime/feedback.h"
#include "quant/pipeline/calib_staging.h"
#include "quant/pipeline/layer_record.h"
#include "quant/pipeline/quant_plan.h"
#include "quant/formats/quantizer.h"

namespace ptq {

class Model;
struct HessianObserver;  // quant/methods/gptq/gptq_stage_helpers.h

// A block's residual stream after its first half (Block::has_halves), one tensor per calibration
// batch, staged like the inputs. capture_hessians fills it on the first capture of a layer group in
// the second half, when every first-half layer holds its final weights, and `settled` sees each of
// those layers on that pass (the pipeline's per-layer output errors). Later captures and the error
// pass then run only the second half from it: the same operations on the same values as a full
// forward, so every result is unchanged.
struct BlockResume {
  bool enabled = false;
  CalibStaging staging = CalibStaging::Device;
  LinearObserver* settled = nullptr;
  std::vector<at::Tensor> mid;
  bool filled(size_t batches) const { return enabled && batches > 0 && mid.size() == batches; }
};

struct BlockWork {
  Model& model;
  Block& block;
  const BlockContext& ctx;                 // rope, mask (observer unset)
  std::vector<at::Tensor>& inputs;         // calibration hidden states into the block, batches [b,T,H]
  const std::vector<at::Tensor>& fp_outputs;  // full-precision block outputs for those inputs
  const QuantPlan& plan;
  const nlohmann::json& params;            // this stage's resolved parameters
  std::map<std::string, LayerRecord>& records;  // by layer name inside the block ("mlp.down_proj")
  std::map<std::string, QuantizedWeight>& quantized;  // integer forms, by name inside the block
  Feedback* fb = nullptr;
  BlockResume* resume = nullptr;  // set by the pipeline for the quantizer stage
  // GPTQ's first group's Hessians, filled on the full-precision forward (gptq_first_group_observer).
  HessianObserver* precaptured = nullptr;

  // Spec of a layer of this block (nullopt = stays full precision).
  std::optional<QuantSpec> spec_for(const Linear& l) const;
  // Runs the block over every input batch (optionally observed); returns the outputs.
  std::vector<at::Tensor> run(LinearObserver* obs = nullptr) const;
  // Mean over batches of ||out - fp_out||² / ||fp_out||².
  double output_error(const std::vector<at::Tensor>& outs) const;
};

using BlockStageFn = std::function<void(BlockWork&)>;
using ModelStageFn = std::function<void(Model&, const nlohmann::json& params, uint64_t seed, Feedback*)>;

// Implementations, registered by id in the pipeline.
void rtn_quantize_block(BlockWork& w);
void gptq_quantize_block(BlockWork& w);
void awq_transform_block(BlockWork& w);
void smoothquant_transform_block(BlockWork& w);
void omniquant_quantize_block(BlockWork& w);
void hqq_quantize_block(BlockWork& w);  // quant/methods/hqq/hqq_stage.cpp
void owq_quantize_block(BlockWork& w);  // quant/methods/owq/owq_stage.cpp
void pbllm_quantize_block(BlockWork& w);  // quant/methods/pbllm/pbllm_stage.cpp
void billm_quantize_block(BlockWork& w);  // quant/methods/billm/billm_stage.cpp
// QuIP around the rounding of `rounding` ("ldlq" for quip alone, "gptq", "rtn"); w.params are the
// rounding stage's parameters (quant/methods/quip/quip_stage.cpp).
void quip_quantize_block(BlockWork& w, const nlohmann::json& quip_params, const std::string& rounding);
void rotate_model(Model& m, const nlohmann::json& params, uint64_t seed, Feedback* fb);

// The record of layer `l` of block `block` in `records`, created with its identity (full name, type,
// block, shape) filled in.
LayerRecord& layer_record(std::map<std::string, LayerRecord>& records, int block, const Linear& l);

// Shared by quantizers: sets layer weight to the dequantized form (compute dtype) and records
// the weight error, storage and integer form. Call once per quantized layer. A negative
// method_loss means the method has no objective for the layer (recorded as null).
void commit_quantized(BlockWork& w, Linear& l, const QuantizedWeight& q, double method_loss, double seconds,
                      const std::string& note = "");

}  // namespace ptq
