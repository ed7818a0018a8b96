#include "eval/metrics/model_size.h"

#include <map>

#include "core/model/model.h"
#include "core/model/model_layout.h"
#include "core/runtime/errors.h"

namespace ptq {

const char* const kPackedLayoutDescription =
    "packed: quantized linear weights as codes packed at their element width, one fp16 scale per group, zeros "
    "packed at the code width per group (asymmetric int), int32 g_idx (act-order); binarized layers (PB-LLM, BiLLM) "
    "as their method counts them (sign bits, masks as bitmaps or indices, kept weights, fp16 parameters); every other tensor the model "
    "has at 16 bits. An accounting of a packed export, not the bytes of a file ptq writes";

int64_t quantized_linear_bytes(int64_t out, int64_t in, const QuantSpec& s, bool g_idx) {
  const int64_t b = s.element_bits();
  const int64_t n_params = out * s.n_groups(in);
  const bool block = format_block_size(s.format) > 0;  // MX / NV: one-byte E8M0 / E4M3 block scales
  int64_t bytes = (out * in * b + 7) / 8 + n_params * (block ? 1 : 2);
  if (s.format == WeightFormat::NVFP4) bytes += 4;  // its FP32 global scale
  if (s.format == WeightFormat::Int && !s.symmetric) bytes += (n_params * b + 7) / 8;
  if (g_idx) bytes += in * 4;
  return bytes;
}

std::vector<LayerRecord> planned_layers(const ModelConfig& c, const QuantPlan& plan) {
  std::vector<LayerRecord> rows;
  for (int blk = 0; blk < c.num_layers; ++blk) {
    for (const LinearSpec& l : block_linears(c, blk)) {
      LayerRecord r;
      r.name = linear_full_name(blk, l.name);
      r.type = l.type;
      r.block = blk;
      r.out_features = l.out_features;
      r.in_features = l.in_features;
      if (auto s = plan.spec_for(r.name, l.type)) {
        try {
          s->validate(l.in_features);
        } catch (const Error& e) {
          throw Error(r.name + ": " + e.what());
        }
        r.quantized = true;
        r.bits = s->element_bits();
        r.group_size = s->effective_group(l.in_features);
        r.format = format_name(s->format);
        r.storage_bytes = quantized_linear_bytes(l.out_features, l.in_features, *s);
      }
      rows.push_back(r);
    }
  }
  std::vector<std::string> names;
  for (const auto& r : rows) names.push_back(r.name);
  check_overrides_match(plan, names);
  return rows;
}

std::vector<TensorCount> config_tensors(const ModelConfig& c) {
  std::vector<TensorCount> out;
  for (const auto& t : expected_tensors(c)) {
    int64_t n = 1;
    for (auto d : t.shape) n *= d;
    out.push_back({t.name, n});
  }
  return out;
}

std::vector<TensorCount> model_tensors(Model& m) {
  std::vector<TensorCount> out = {{embedding_key(m.config()), m.embed_weight().numel()},
                                  {final_norm_key(m.config()), m.norm_weight().numel()}};
  if (m.head_weight().data_ptr() != m.embed_weight().data_ptr()) out.push_back({"lm_head.weight", m.head_weight().numel()});
  for (int i = 0; i < m.num_blocks(); ++i)
    for (const auto& kv : m.block(i).tensors())
      out.push_back({kv.first, kv.second->defined() ? kv.second->numel() : m.checkpoint().info(kv.first).numel()});
  return out;
}

nlohmann::json model_size(const std::vector<TensorCount>& tensors, const ModelConfig& c,
                          const std::vector<LayerRecord>& layers) {
  std::map<std::string, const LayerRecord*> records;
  for (const auto& r : layers) records[r.name] = &r;
  std::map<std::string, std::string> linear_of;  // weight key -> full layer name
  for (int blk = 0; blk < c.num_layers; ++blk)
    for (const LinearSpec& l : block_linears(c, blk)) linear_of[linear_weight_key(c, blk, l.name)] = linear_full_name(blk, l.name);
  int64_t linear_params = 0, quantized_params = 0, linear_bytes = 0, other_params = 0, linears_seen = 0;
  for (const TensorCount& t : tensors) {
    auto lin = linear_of.find(t.name);
    if (lin == linear_of.end()) {
      other_params += t.numel;
      continue;
    }
    ++linears_seen;
    linear_params += t.numel;
    const LayerRecord* r = nullptr;
    auto it = records.find(lin->second);
    if (it != records.end()) r = it->second, records.erase(it);
    if (r && r->quantized) {
      if (r->storage_bytes <= 0) throw Error("layer " + r->name + " is quantized but records no storage_bytes");
      quantized_params += t.numel;
      linear_bytes += r->storage_bytes;
    } else {
      linear_bytes += 2 * t.numel;
    }
  }
  if (!records.empty())
    throw Error("the layer records name '" + records.begin()->first + "', a layer this model does not have");
  if (linears_seen != int64_t(linear_of.size()))
    throw Error("the model's tensors lack " + std::to_string(int64_t(linear_of.size()) - linears_seen) +
                " of the block linears config.json names");
  const int64_t total_params = linear_params + other_params;
  const int64_t total_bytes = linear_bytes + 2 * other_params;
  const int64_t fp16_bytes = 2 * parameter_count(c);
  return {{"total_bytes", total_bytes},
          {"fp16_bytes", fp16_bytes},
          {"linear_params", linear_params},
          {"quantized_params", quantized_params},
          {"other_params", other_params},
          {"bits_per_weight", 8.0 * double(total_bytes) / double(total_params)},
          {"linear_bits_per_weight", linear_params ? 8.0 * double(linear_bytes) / double(linear_params) : 0.0},
          {"compression_vs_fp16", double(fp16_bytes) / double(total_bytes)},
          {"layout", kPackedLayoutDescription}};
}

nlohmann::json model_size(const ModelConfig& c, const std::vector<LayerRecord>& layers) {
  return model_size(config_tensors(c), c, layers);
}

}  // namespace ptq
