#pragma once
// Exact bytes of a model as stored after quantization (metrics.size of docs/results-schema.md):
// quantized linear weights as QuantizedWeight::storage_bytes counts them (codes packed at the
// element width, one fp16 scale per group, zeros packed at `bits` per group for asymmetric INT,
// int32 g_idx when act-order reorders groups); everything else — embeddings, norms, the head,
// biases, routers and layers the plan skips — at 16 bits. Works from config.json alone.
#include <nlohmann/json.hpp>
#include <vector>

#include "core/io/model_config.h"
#include "quant/pipeline/layer_record.h"
#include "quant/pipeline/quant_plan.h"
#include "quant/formats/quantizer.h"

namespace ptq {

// Bytes of the stored form of an [out, in] weight under `s` with fp16 scales, equal to
// quantize_weight(w, s).storage_bytes(); `g_idx` adds the int32 group index of act-order GPTQ.
int64_t quantized_linear_bytes(int64_t out, int64_t in, const QuantSpec& s, bool g_idx = false);

// The layer rows a plan gives every block linear (name, type, block, shape, quantized, bits,
// group, format, storage_bytes), without weights. Throws ptq::Error naming a layer whose input
// width the group size does not divide, or bad bits.
std::vector<LayerRecord> planned_layers(const ModelConfig& c, const QuantPlan& plan);

// metrics.size: total_bytes, fp16_bytes, linear_params, quantized_params, other_params,
// bits_per_weight, linear_bits_per_weight, compression_vs_fp16. Linear layers are the block
// linears' weights (routers included); a layer counts as quantized when its record says so (its
// storage_bytes are used); with no records the model is all fp16 (the baseline). Throws
// ptq::Error for a record naming a layer the model lacks or a quantized one without storage_bytes.
nlohmann::json model_size(const ModelConfig& c, const std::vector<LayerRecord>& layers = {});

}  // namespace ptq
