#pragma once
// Exporting a quantized model as a Hugging Face folder that vLLM and transformers load:
// GPTQ v1 / v2, AWQ GEMM, compressed-tensors (pack-quantized W4A16 / W8A16, int-quantized W8A8,
// float-quantized FP8). Bit layouts: core/io/quantized_layouts.h; reading back:
// core/io/checkpoint.h (a quantized folder opens as a model, dequantized on load).
//
// What the folder holds: the source folder's config.json with `quantization_config` added (and
// tie_word_embeddings false when the method untied the head), the tokenizer files and
// generation_config.json as the source has them, the weights as safetensors (sharded with
// model.safetensors.index.json above `max_shard_bytes`), and quantize_config.json for GPTQ
// (AutoGPTQ reads it). Every tensor the method changed (AWQ / SmoothQuant scales folded into
// norms and weights, QuaRot's offline rotations of embedding, head and weights) is written as the
// model holds it, so the export computes what the workbench evaluated. Scales are float16 when
// every one is exactly representable in float16, else float32 (the readers cast them to their
// compute dtype on load; rounding them here would change the dequantized weights).
//
// Refused, with the reason, before anything is written: an online Hadamard (QuaRot's down_proj
// input), OWQ's full-precision columns, HQQ's real-valued zero points, NF4 / FP4 / MX formats in
// GPTQ / AWQ, bits a format's readers do not take, act-order in AWQ, activation quantization in a
// weight-only format, KV-cache quantization (the workbench's is dynamic; compressed-tensors'
// kv_cache_scheme holds static scales), a zero point of 0 in GPTQ v1 (stored as zero − 1).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/model/model.h"
#include "quant/formats/act_spec.h"
#include "quant/formats/quantizer.h"
#include "quant/pipeline/pipeline.h"

namespace ptq {

enum class HfExportFormat { Gptq, GptqV2, Awq, CompressedTensors };

// "gptq", "gptq_v2", "awq", "compressed-tensors"; throws ptq::Error listing them.
HfExportFormat parse_hf_export_format(const std::string& name);
std::string hf_export_format_name(HfExportFormat f);

struct HfExportInput {
  Model* model = nullptr;                                // the quantized model (weights as evaluated)
  std::map<std::string, QuantizedWeight> quantized;      // integer forms by full layer name ("layers.3.mlp.down_proj")
  ActQuantSpec act;                                      // activation quantization of the run
  std::map<std::string, at::Tensor> act_scales;          // static activation scales by full layer name
  int kv_bits = 0;                                       // KV-cache quantization of the run (0: none)
  std::string method;
  double damp_percent = 0.01;                            // GPTQ's damping (quantize_config.json)
};

struct HfExportOptions {
  std::string dir;
  HfExportFormat format = HfExportFormat::Gptq;
  bool force = false;                       // replace a non-empty `dir`
  uint64_t max_shard_bytes = 5000000000ULL; // transformers' default max_shard_size "5GB"
};

// The export input of a finished quantization (`kv_bits`: the run's KV-cache bits, 0 if none).
HfExportInput hf_export_input(Model& m, const QuantResult& r, int kv_bits);

// Throws ptq::Error with the reason when `in` cannot be expressed in `format` exactly.
void check_hf_exportable(const HfExportInput& in, HfExportFormat format);
// Throws when `dir` exists, is not empty and `force` is off (called before a long run).
void check_export_target(const std::string& dir, bool force);

// Writes the folder into a temporary sibling and renames it into place. Returns a summary:
// {"dir", "format", "quantization_config", "files", "bytes", "quantized_modules"}.
nlohmann::json export_hf_checkpoint(const HfExportInput& in, const HfExportOptions& opts);

}  // namespace ptq
