#include "quant/pipeline/layer_record.h"

namespace ptq {

namespace {

// A number, or not measured for null, absent, or the old sentinel value.
double read_measured(const nlohmann::json& j, const char* key, bool legacy_sentinel) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return kNotMeasured;
  const double v = it->get<double>();
  return legacy_sentinel && v == -1.0 ? kNotMeasured : v;
}

}  // namespace

nlohmann::json measured_json(double v) { return measured(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json LayerRecord::to_json() const {
  nlohmann::json j = {{"name", name}, {"type", type}, {"block", block}, {"shape", {out_features, in_features}},
          {"quantized", quantized}, {"bits", bits}, {"group", group_size}, {"format", format},
          {"weight_rel_error", measured_json(weight_rel_error)}, {"out_rel_mse", measured_json(out_rel_mse)},
          {"out_cosine", measured_json(out_cosine)}, {"method_loss", measured_json(method_loss)},
          {"calib_tokens", calib_tokens}, {"storage_bytes", storage_bytes}, {"seconds", seconds}, {"note", note}};
  if (measured(incoherence_before)) {  // QuIP only: absent for the other methods
    j["incoherence_before"] = incoherence_before;
    j["incoherence_after"] = measured_json(incoherence_after);
  }
  return j;
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
  r.calib_tokens = j.value("calib_tokens", int64_t(0));
  r.weight_rel_error = r.quantized ? read_measured(j, "weight_rel_error", false) : kNotMeasured;
  const bool no_tokens = r.calib_tokens == 0;
  r.out_rel_mse = read_measured(j, "out_rel_mse", true);
  r.out_cosine = read_measured(j, "out_cosine", no_tokens);
  r.method_loss = read_measured(j, "method_loss", true);
  r.incoherence_before = read_measured(j, "incoherence_before", false);
  r.incoherence_after = read_measured(j, "incoherence_after", false);
  r.storage_bytes = j.value("storage_bytes", int64_t(0));
  r.seconds = j.value("seconds", 0.0);
  r.note = j.value("note", "");
  return r;
}

nlohmann::json BlockRecord::to_json() const {
  return {{"block", block}, {"out_rel_mse", measured_json(out_rel_mse)}, {"seconds", seconds}};
}

}  // namespace ptq
