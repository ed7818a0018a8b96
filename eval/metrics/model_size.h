#pragma once
// The model's bytes in a packed layout (metrics.size of docs/results-schema.md). The layout is an
// accounting of what a packed export would store, not the bytes of a file this program writes
// (the artifact folder of quant/pipeline/quantized_export.h stores a working form and says its
// own bytes): quantized linear weights as QuantizedWeight::storage_bytes counts them (codes packed
// at the element width, one fp16 scale per group, zeros packed at `bits` per group for asymmetric
// INT, int32 g_idx when act-order reorders groups); every other tensor the model has — embeddings,
// norms, the head (once more when a transform untied it from the embedding), biases, routers and
// layers the plan skips — at 16 bits.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/model_config.h"
#include "quant/formats/quantizer.h"
#include "quant/pipeline/layer_record.h"
#include "quant/pipeline/quant_plan.h"

namespace ptq {

class Model;

// metrics.size.layout: what the sizes count.
extern const char* const kPackedLayoutDescription;

// Bytes of the stored form of an [out, in] weight under `s` with fp16 scales, equal to
// quantize_weight(w, s).storage_bytes(); `g_idx` adds the int32 group index of act-order GPTQ.
int64_t quantized_linear_bytes(int64_t out, int64_t in, const QuantSpec& s, bool g_idx = false);

// The layer rows a plan gives every block linear (name, type, block, shape, quantized, bits,
// group, format, storage_bytes), without weights. Throws ptq::Error naming a layer whose input
// width the group size does not divide, or bad bits.
std::vector<LayerRecord> planned_layers(const ModelConfig& c, const QuantPlan& plan);

// A tensor of the model: checkpoint name and element count.
struct TensorCount {
  std::string name;
  int64_t numel = 0;
};
// The tensors config.json implies (the checkpoint's; lm_head absent when tied).
std::vector<TensorCount> config_tensors(const ModelConfig& c);
// The tensors `m` has now: embedding, final norm, the head when it is a tensor of its own (an
// untied checkpoint, or a transform untied it), every block tensor (shapes from the checkpoint for
// a streamed block that is not loaded).
std::vector<TensorCount> model_tensors(Model& m);

// metrics.size: total_bytes, fp16_bytes, linear_params, quantized_params, other_params,
// bits_per_weight, linear_bits_per_weight, compression_vs_fp16, layout. Linear layers are the
// block linears' weights (routers included); a layer counts as quantized when its record says so
// (its storage_bytes are used); with no records the model is all fp16 (the baseline).
// fp16_bytes is the checkpoint at 16 bits (the fp16 baseline's total_bytes) and
// compression_vs_fp16 = fp16_bytes / total_bytes; bits_per_weight = 8·total_bytes / the parameters
// of `tensors`. Throws ptq::Error for a record naming a layer the tensors lack, a quantized one
// without storage_bytes, or tensors without a block linear of `c`.
nlohmann::json model_size(const std::vector<TensorCount>& tensors, const ModelConfig& c,
                          const std::vector<LayerRecord>& layers = {});
// From config.json alone (a plan, or the fp16 baseline).
nlohmann::json model_size(const ModelConfig& c, const std::vector<LayerRecord>& layers = {});

}  // namespace ptq
