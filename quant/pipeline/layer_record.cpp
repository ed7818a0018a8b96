#include "quant/pipeline/layer_record.h"

namespace ptq {

nlohmann::json LayerRecord::to_json() const {
  return {{"name", name}, {"type", type}, {"block", block}, {"shape", {out_features, in_features}},
          {"quantized", quantized}, {"bits", bits}, {"group", group_size}, {"format", format},
          {"weight_rel_error", weight_rel_error}, {"out_rel_mse", out_rel_mse}, {"out_cosine", out_cosine},
          {"method_loss", method_loss}, {"calib_tokens", calib_tokens}, {"storage_bytes", storage_bytes},
          {"seconds", seconds}, {"note", note}};
}

LayerRecord LayerRecord::from_json(const nlohmann::json& j) {
  LayerRecord r;
  r.name = j.value("name", "");
  r.type = j.value("type", "");
  r.block = j.value("block", 0);
  if (j.contains("shape") && j["shape"].size() == 2) {
    r.out_features = j["shape"][0].get<int64_t>();
    r.in_features = j["shape"][1].get<int64_t>();
  }
  r.quantized = j.value("quantized", false);
  r.bits = j.value("bits", 16);
  r.group_size = j.value("group", int64_t(-1));
  r.format = j.value("format", "");
  r.weight_rel_error = j.value("weight_rel_error", 0.0);
  r.out_rel_mse = j.value("out_rel_mse", -1.0);
  r.out_cosine = j.value("out_cosine", -1.0);
  r.method_loss = j.value("method_loss", -1.0);
  r.calib_tokens = j.value("calib_tokens", int64_t(0));
  r.storage_bytes = j.value("storage_bytes", int64_t(0));
  r.seconds = j.value("seconds", 0.0);
  r.note = j.value("note", "");
  return r;
}

nlohmann::json BlockRecord::to_json() const {
  return {{"block", block}, {"out_rel_mse", out_rel_mse}, {"seconds", seconds}};
}

}  // namespace ptq
