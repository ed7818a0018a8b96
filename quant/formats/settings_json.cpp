#include "quant/formats/settings_json.h"

#include "core/runtime/errors.h"

namespace ptq {

ActQuantSpec act_spec_from_json(const nlohmann::json& j) {
  ActQuantSpec a;
  if (!j.is_object()) throw Error("activation setting must be a JSON object of act_* keys, got " + j.dump());
  if (j.empty()) return a;
  try {
    a.bits = j.at("act_bits").get<int>();
    a.format = parse_format(j.at("act_format").get<std::string>());
    a.granularity = parse_act_granularity(j.at("act_granularity").get<std::string>());
    parse_act_static(j.at("act_static").get<std::string>(), a);
    a.qkv_out = j.at("act_qkv_out").get<bool>();
    if (j.contains("act_group")) a.group_size = j.at("act_group").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error("activation setting " + j.dump() + " is incomplete or mistyped: " + e.what());
  }
  a.validate();
  return a;
}

KvCacheSpec kv_spec_from_json(const nlohmann::json& j) {
  KvCacheSpec s;
  if (j.is_null()) return s;
  try {
    s.bits = j.at("bits").get<int>();
    s.format = j.at("format").get<std::string>();
    s.granularity = j.at("granularity").get<std::string>();
    s.group = j.at("group").get<int64_t>();
    s.residual = j.at("residual").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error("KV-cache setting " + j.dump() + " is incomplete or mistyped: " + e.what());
  }
  s.validate();
  return s;
}

}  // namespace ptq
