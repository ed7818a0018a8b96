#pragma once
// Saving a quantized model so it can be rebuilt later (ptq compare --quantized, kurtosis of a
// recorded run, the GUI): the integer forms of the quantized linears (codes, scales, zeros, g_idx)
// and every other tensor the strategy changed (rotated embedding and head, folded norms, scaled
// routers), against the base checkpoint, plus the online input transforms (rotation's Hadamard on
// down_proj inputs) and the spec of each quantized layer. An online Hadamard cannot be expressed
// in a Hugging Face folder, so the artifacts reference the base checkpoint instead of copying it.
//
// Folder layout: <dir>/quantized.safetensors, <dir>/artifacts.json
//   artifacts.json: {"format": "ptq-workbench.quantized", "version": 1, "base_model": ABS_PATH,
//                    "method": ..., "dtype": ..., "untied_head": bool,
//                    "online_hadamard": [full layer names],
//                    "layers": {full name: {"bits","group","sym","format","clip_ratio"}},
//                    "changed": [checkpoint keys saved in full],
//                    "activations": null or {"setting": act_* keys (ActQuantSpec::to_json),
//                                            "layers": [full names whose input is quantized]},
//                    "kv_cache": null or KvCacheSpec::to_json(),
//                    "stores": {what each part is: uint8 codes, float32 scales and zeros, ...},
//                    "bytes": {"file": size of quantized.safetensors, "tensors": their data bytes,
//                              "by_part": {"codes", "scales", "zeros", "g_idx", "changed"},
//                              "quantized_layers_packed": the packed layout's bytes of the quantized
//                              layers (eval/metrics/model_size.h), which this folder does not store}}
// Static activation scales are stored as "<layer>.act_scale" (float32). Version 2 added
// "activations" and "kv_cache"; a version 1 folder loads as weight-only with a full-precision cache.
// The folder is a working form for rebuilding the model here, not a packed export: its codes are one
// byte each and its scales and zeros float32, so it is larger than metrics.size.total_bytes.
#include <map>
#include <memory>
#include <string>

#include "core/runtime/feedback.h"
#include "core/model/model.h"
#include "quant/kvcache/kv_cache_spec.h"
#include "quant/pipeline/pipeline.h"

namespace ptq {

// `model` is the quantized model (after quantize_model), `r` its result, `kv` the KV-cache setting
// it is evaluated with (off by default). Writes atomically.
void save_quantized_artifacts(Model& model, const QuantResult& r, const std::string& dir, const KvCacheSpec& kv = {});

// Loads the base checkpoint named in <dir>/artifacts.json and applies the artifacts: the result
// computes exactly what the quantized model computed (dequantized weights in the load dtype, the
// activation quantizers with their static scales, the KV-cache quantizer). Throws ptq::Error for
// what it cannot restore (a newer version, a static scale or layer missing, a KV setting the model
// cannot take).
std::unique_ptr<Model> load_quantized_model(const std::string& dir, const LoadOptions& opts, Feedback* fb = nullptr);

// What else the artifacts record: the method, the activation quantization and its static scales,
// the KV-cache setting.
struct QuantizedArtifactsInfo {
  std::string method;
  ActQuantSpec act;
  std::map<std::string, at::Tensor> act_scales;
  KvCacheSpec kv;
};
// As above; `base_override` (non-empty) replaces the base_model path the artifacts name, `forms`
// receives the integer forms by full layer name and `info` the rest (for a checkpoint export).
std::unique_ptr<Model> load_quantized_model(const std::string& dir, const LoadOptions& opts, Feedback* fb,
                                            const std::string& base_override,
                                            std::map<std::string, QuantizedWeight>* forms, QuantizedArtifactsInfo* info);

// True when dir holds artifacts.json.
bool has_quantized_artifacts(const std::string& dir);

}  // namespace ptq
