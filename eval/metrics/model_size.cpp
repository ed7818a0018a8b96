#include "eval/metrics/model_size.h"

#include <map>

#include "core/runtime/errors.h"
#include "core/model/model_layout.h"

namespace ptq {

int64_t quantized_linear_bytes(int64_t out, int64_t in, const QuantSpec& s, bool g_idx) {
  const int64_t b = s.element_bits();
  const int64_t n_params = out * s.n_groups(in);
  int64_t bytes = (out * in * b + 7) / 8 + n_params * 2;
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
  return rows;
}

nlohmann::json model_size(const ModelConfig& c, const std::vector<LayerRecord>& layers) {
  std::map<std::string, const LayerRecord*> records;
  for (const auto& r : layers) records[r.name] = &r;
  int64_t linear_params = 0, quantized_params = 0, linear_bytes = 0;
  for (int blk = 0; blk < c.num_layers; ++blk) {
    for (const LinearSpec& l : block_linears(c, blk)) {
      const int64_t n = l.out_features * l.in_features;
      linear_params += n;
      const LayerRecord* r = nullptr;
      auto it = records.find(linear_full_name(blk, l.name));
      if (it != records.end()) r = it->second, records.erase(it);
      if (r && r->quantized) {
        if (r->storage_bytes <= 0) throw Error("layer " + r->name + " is quantized but records no storage_bytes");
        quantized_params += n;
        linear_bytes += r->storage_bytes;
      } else {
        linear_bytes += 2 * n;
      }
    }
  }
  if (!records.empty())
    throw Error("the layer records name '" + records.begin()->first + "', a layer this model does not have");
  const int64_t total_params = parameter_count(c);
  const int64_t other_params = total_params - linear_params;
  const int64_t total_bytes = linear_bytes + 2 * other_params;
  const int64_t fp16_bytes = 2 * total_params;
  return {{"total_bytes", total_bytes},
          {"fp16_bytes", fp16_bytes},
          {"linear_params", linear_params},
          {"quantized_params", quantized_params},
          {"other_params", other_params},
          {"bits_per_weight", 8.0 * double(total_bytes) / double(total_params)},
          {"linear_bits_per_weight", linear_params ? 8.0 * double(linear_bytes) / double(linear_params) : 0.0},
          {"compression_vs_fp16", double(fp16_bytes) / double(total_bytes)}};
}

}  // namespace ptq
