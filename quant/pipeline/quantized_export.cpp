#include "quant/pipeline/quantized_export.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <climits>
#include <set>

#include "core/runtime/errors.h"
#include "core/runtime/text_util.h"
#include "core/records/json_util.h"
#include "core/runtime/device.h"
#include "core/io/safetensors.h"
#include "quant/formats/settings_json.h"
#include "quant/kvcache/kv_cache_quantizer.h"
#include "quant/methods/rotation/hadamard.h"
#include "quant/pipeline/act_install.h"

namespace ptq {

namespace {

using nlohmann::json;

constexpr int kArtifactsVersion = 2;  // 2: activation quantizers and the KV-cache setting

json spec_json(const QuantSpec& s) {
  return {{"bits", s.bits}, {"group", s.group_size}, {"sym", s.symmetric}, {"format", format_name(s.format)},
          {"clip_ratio", s.clip_ratio}};
}

QuantSpec spec_from(const json& j) {
  QuantSpec s;
  s.bits = j.at("bits").get<int>();
  s.group_size = j.at("group").get<int64_t>();
  s.symmetric = j.at("sym").get<bool>();
  s.format = parse_format(j.at("format").get<std::string>());
  s.clip_ratio = j.at("clip_ratio").get<double>();
  return s;
}

std::string absolute(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : p;
}

bool same(const at::Tensor& now, const at::Tensor& stored) {
  at::Tensor a = now.to(at::kCPU), b = stored.to(now.scalar_type());
  return a.sizes() == b.sizes() && at::equal(a, b);
}

// Calls fn(key, tensor&) for the model-level tensors (embedding, final norm, head when untied).
template <class Fn>
void for_each_model_tensor(Model& m, bool untied, Fn fn) {
  fn(embedding_key(m.config()), m.embed_weight());
  fn(final_norm_key(m.config()), m.norm_weight());
  if (untied) fn("lm_head.weight", m.head_weight());
}

bool head_untied(Model& m) { return m.head_weight().data_ptr() != m.embed_weight().data_ptr(); }

// What the folder holds: the working form of the quantized layers, not a packed export.
json stored_form_description() {
  return {{"layout", "unpacked working form against the base checkpoint (not a packed or deployable export)"},
          {"codes", "uint8, one code per weight element"},
          {"scales", "float32 [out, groups]"},
          {"zeros", "float32 [out, groups] (int formats)"},
          {"g_idx", "int64 [in] (act-order)"},
          {"kept_columns", "int64 [k]: columns kept in full precision (OWQ)"},
          {"kept_values", "float32 [out, k]: their values"},
          {"act_scale", "float32 [1] or [width / group]: static activation scale of a layer's input"},
          {"values", "float32 [out, in]: the dequantized weight of a binarized layer (PB-LLM, BiLLM; no codes)"},
          {"col_scale", "float32 [in]: QuIP's column rescaling (U, V: regenerated from the layer's incoherence_seed)"},
          {"changed", "full copies of every other tensor the method changed, in the compute dtype"}};
}

// Bytes of what was written, by part, beside the packed layout's bytes of the same quantized
// layers (metrics.size counts those; this folder does not store them).
json stored_bytes(const std::vector<std::pair<std::string, at::Tensor>>& ts, const QuantResult& r, uint64_t file_size) {
  json parts = {{"codes", 0},        {"scales", 0},      {"zeros", 0}, {"g_idx", 0},
                {"kept_columns", 0}, {"kept_values", 0}, {"act_scale", 0}, {"values", 0}, {"col_scale", 0}, {"changed", 0}};
  int64_t total = 0;
  for (const auto& kv : ts) {
    const int64_t b = kv.second.numel() * int64_t(kv.second.element_size());
    const auto dot = kv.first.rfind('.');
    const std::string part = dot == std::string::npos ? "" : kv.first.substr(dot + 1);
    const bool quantized_part = r.quantized.count(kv.first.substr(0, dot == std::string::npos ? 0 : dot)) > 0;
    std::string key = quantized_part && parts.contains(part) ? part : "changed";
    if (part == "act_scale") key = part;
    parts[key] = parts[key].get<int64_t>() + b;
    total += b;
  }
  int64_t packed = 0;
  for (const auto& kv : r.quantized) packed += kv.second.storage_bytes(2);
  return {{"file", file_size}, {"tensors", total}, {"by_part", parts}, {"quantized_layers_packed", packed}};
}

// The layers whose input the run quantizes (as install_activation_quantizers chose them) and
// their static scales; null when activations stay in full precision.
json activation_artifacts(Model& m, const QuantResult& r, std::vector<std::pair<std::string, at::Tensor>>& ts) {
  if (!r.plan.act.enabled()) return nullptr;
  json names = json::array();
  for (int i = 0; i < m.num_blocks(); ++i)
    for (const auto& l : m.block(i).linears()) {
      const std::string full = linear_full_name(i, l.name());
      if (!r.plan.act_spec_for(full, l.spec.type)) continue;
      names.push_back(full);
      if (!r.plan.act.is_static()) continue;
      auto it = r.act_scales.find(full);
      if (it == r.act_scales.end()) throw Error("internal: no static activation scale for " + full + " to save");
      ts.emplace_back(full + ".act_scale", it->second.to(at::kCPU, at::kFloat).contiguous());
    }
  return {{"setting", r.plan.act.to_json()}, {"layers", names}};
}

}  // namespace

bool has_quantized_artifacts(const std::string& dir) {
  return !dir.empty() && is_directory(dir) && file_exists(join_path(dir, "artifacts.json"));
}

void save_quantized_artifacts(Model& m, const QuantResult& r, const std::string& dir, const KvCacheSpec& kv) {
  kv.validate();
  const Checkpoint& ck = m.checkpoint();
  std::vector<std::pair<std::string, at::Tensor>> ts;
  json layers = json::object(), changed = json::array(), hadamard = json::array();
  for (const auto& kv : r.quantized) {
    const QuantizedWeight& q = kv.second;
    if (q.values.defined()) ts.emplace_back(kv.first + ".values", q.values);
    if (q.codes.defined()) ts.emplace_back(kv.first + ".codes", q.codes);
    if (q.scales.defined()) ts.emplace_back(kv.first + ".scales", q.scales);
    if (q.zeros.defined()) ts.emplace_back(kv.first + ".zeros", q.zeros);
    if (q.g_idx.defined()) ts.emplace_back(kv.first + ".g_idx", q.g_idx);
    if (q.kept_columns.defined()) ts.emplace_back(kv.first + ".kept_columns", q.kept_columns);
    if (q.kept_values.defined()) ts.emplace_back(kv.first + ".kept_values", q.kept_values);
    if (q.col_scale.defined()) ts.emplace_back(kv.first + ".col_scale", q.col_scale);
    layers[kv.first] = spec_json(q.spec);
    if (q.axis0_out > 0) layers[kv.first]["axis0_out"] = q.axis0_out;  // HQQ axis 0
    if (q.zero_bytes > 0) layers[kv.first]["zero_bytes"] = q.zero_bytes;  // HQQ's real-valued zeros
    if (!q.incoherence.empty()) {  // QuIP: U, V from the kind and the seed
      layers[kv.first]["incoherence"] = q.incoherence;
      layers[kv.first]["incoherence_seed"] = q.incoherence_seed;
    }
  }
  const bool untied = head_untied(m) && m.config().tie_word_embeddings;
  auto keep_if_changed = [&](const std::string& key, at::Tensor& t) {
    const std::string stored_key = (key == "lm_head.weight" && untied) ? embedding_key(m.config()) : key;
    if (same(t, ck.load(stored_key))) return;
    ts.emplace_back(key, t.to(at::kCPU).clone());
    changed.push_back(key);
  };
  for_each_model_tensor(m, head_untied(m), keep_if_changed);
  for (int i = 0; i < m.num_blocks(); ++i) {
    Block& b = m.acquire(i);
    std::set<const at::Tensor*> quantized;
    for (auto& l : b.linears()) {
      const std::string full = linear_full_name(i, l.name());
      if (r.quantized.count(full)) quantized.insert(&l.weight);
      if (l.input_transform) hadamard.push_back(full);
    }
    for (auto& kv : b.tensors())
      if (!quantized.count(kv.second)) keep_if_changed(kv.first, *kv.second);
    m.release(i);
  }
  const json activations = activation_artifacts(m, r, ts);
  json meta = {{"format", "ptq-workbench.quantized"},
               {"stores", stored_form_description()},
               {"version", kArtifactsVersion},
               {"activations", activations},
               {"kv_cache", kv.to_json()},
               {"base_model", absolute(ck.dir())},
               {"method", r.method},
               {"dtype", dtype_name(m.dtype())},
               {"untied_head", untied},
               {"online_hadamard", hadamard},
               {"layers", layers},
               {"changed", changed},
               {"activations", r.plan.act.enabled() ? r.plan.act.to_json() : json()}};
  const std::string file = join_path(dir, "quantized.safetensors");
  save_safetensors(file, ts, {{"format", "ptq-workbench"}, {"method", r.method}});
  meta["bytes"] = stored_bytes(ts, r, SafetensorsFile(file).file_size());
  write_json_atomic(join_path(dir, "artifacts.json"), meta);
}

namespace {

// A name in artifacts.json that met no tensor of the base model would silently leave that part in
// full precision: refuse instead.
void check_all_applied(const std::string& meta_path, const std::set<std::string>& expected,
                       const std::set<std::string>& applied) {
  std::vector<std::string> missing;
  for (const auto& k : expected)
    if (!applied.count(k)) missing.push_back(k);
  if (missing.empty()) return;
  std::string list;
  for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
  if (missing.size() > 5) list += ", ... (" + std::to_string(missing.size()) + " in all)";
  throw Error("'" + meta_path + "' names tensors the base model does not have: " + list +
              " (were the artifacts made from another model?)");
}

// The activation quantizers artifacts.json describes (disabled for version 1 and weight-only runs).
struct ActivationArtifacts {
  ActQuantSpec spec;
  std::set<std::string> layers;
};

ActivationArtifacts read_activation_artifacts(const json& meta, const std::string& meta_path) {
  ActivationArtifacts a;
  auto it = meta.find("activations");
  if (it == meta.end() || it->is_null()) return a;
  try {
    a.spec = act_spec_from_json(it->at("setting"));
    a.layers = it->at("layers").get<std::set<std::string>>();
  } catch (const json::exception& e) {
    throw Error("'" + meta_path + "': \"activations\" needs \"setting\" and \"layers\": " + e.what());
  } catch (const Error& e) {
    throw Error("'" + meta_path + "': the activation quantizers cannot be restored: " + e.what());
  }
  if (!a.spec.enabled() && !a.layers.empty())
    throw Error("'" + meta_path + "': \"activations\" lists layers but its setting has no act_bits");
  return a;
}

KvCacheSpec read_kv_artifacts(const json& meta, const std::string& meta_path) {
  try {
    return kv_spec_from_json(meta.value("kv_cache", json()));
  } catch (const Error& e) {
    throw Error("'" + meta_path + "': the KV-cache setting cannot be restored: " + e.what());
  }
}

json read_artifacts_meta(const std::string& dir, const std::string& meta_path) {
  if (!file_exists(meta_path))
    throw Error("'" + dir + "' holds no quantized model (artifacts.json missing; write one with ptq quantize --out)");
  json meta = read_json_file(meta_path);
  if (meta.value("format", "") != "ptq-workbench.quantized")
    throw Error("'" + meta_path + "' is not a ptq-workbench quantized-model description");
  const json v = meta.value("version", json(1));
  if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > kArtifactsVersion)
    throw Error("'" + meta_path + "' has version " + v.dump() + "; this build reads versions 1 to " +
                std::to_string(kArtifactsVersion) + " (written by a newer ptq-workbench?)");
  return meta;
}

// Every name the artifacts list, as `applied` will record it once placed.
std::set<std::string> expected_names(const json& meta, const ActivationArtifacts& act) {
  std::set<std::string> e = meta.at("changed").get<std::set<std::string>>();
  for (const auto& k : meta.at("online_hadamard").get<std::set<std::string>>()) e.insert(k + " (online Hadamard)");
  const json& layers = meta.at("layers");
  for (auto it = layers.begin(); it != layers.end(); ++it) e.insert(it.key());
  for (const auto& k : act.layers) e.insert(k + " (activation quantizer)");
  return e;
}

QuantizedWeight load_quantized_weight(const SafetensorsFile& f, const std::string& full, const json& spec) {
  QuantizedWeight q;
  q.spec = spec_from(spec);
  if (f.contains(full + ".values")) {
    q.values = f.load(full + ".values");  // a binarized layer (PB-LLM, BiLLM): no codes
  } else {
    q.codes = f.load(full + ".codes");
    q.scales = f.load(full + ".scales");
  }
  if (f.contains(full + ".zeros")) q.zeros = f.load(full + ".zeros");
  if (f.contains(full + ".g_idx")) q.g_idx = f.load(full + ".g_idx");
  if (f.contains(full + ".kept_columns")) q.kept_columns = f.load(full + ".kept_columns");
  if (f.contains(full + ".kept_values")) q.kept_values = f.load(full + ".kept_values");
  if (f.contains(full + ".col_scale")) q.col_scale = f.load(full + ".col_scale");
  q.axis0_out = spec.value("axis0_out", int64_t(0));
  q.zero_bytes = spec.value("zero_bytes", 0);
  if (spec.contains("incoherence")) {  // QuIP: U, V regenerated from the seed
    q.incoherence = spec.at("incoherence").get<std::string>();
    q.incoherence_seed = spec.at("incoherence_seed").get<uint64_t>();
  }
  return q;
}

void install_stored_act_quantizer(Linear& l, const std::string& full, const ActivationArtifacts& act,
                                  const SafetensorsFile& f, const std::string& dir, const Model& m) {
  at::Tensor scale;
  if (act.spec.is_static()) {
    if (!f.contains(full + ".act_scale"))
      throw Error("'" + dir + "': " + full + " has static activation scales (act_static " + act_static_name(act.spec) +
                  ") but quantized.safetensors holds no " + full + ".act_scale");
    scale = f.load(full + ".act_scale").to(m.device());
  }
  install_activation_quantizer(l, act.spec, scale);
}

}  // namespace

std::unique_ptr<Model> load_quantized_model(const std::string& dir, const LoadOptions& opts, Feedback* fb) {
  return load_quantized_model(dir, opts, fb, "", nullptr, nullptr);
}

std::unique_ptr<Model> load_quantized_model(const std::string& dir, const LoadOptions& opts, Feedback* fb,
                                            const std::string& base_override,
                                            std::map<std::string, QuantizedWeight>* forms, QuantizedArtifactsInfo* info) {
  const std::string meta_path = join_path(dir, "artifacts.json");
  const json meta = read_artifacts_meta(dir, meta_path);
  const std::string base = base_override.empty() ? meta.at("base_model").get<std::string>() : base_override;
  if (!is_directory(base)) throw Error("the base checkpoint '" + base + "' named in " + meta_path + " is missing");
  const ActivationArtifacts act = read_activation_artifacts(meta, meta_path);
  const KvCacheSpec kv = read_kv_artifacts(meta, meta_path);
  SafetensorsFile f(join_path(dir, "quantized.safetensors"));
  auto m = Model::load(base, opts, fb);
  if (m->split() && act.spec.enabled())
    throw Error(meta_path + " quantizes activations, which a model split across devices does not support; "
                "evaluate it on one device");
  if (kv.enabled()) m->set_kv_cache(make_kv_cache_quantizer(kv, m->config()));  // refuses Mamba, MLA
  if (meta.value("untied_head", false)) m->untie_head();
  const std::set<std::string> changed = meta.at("changed").get<std::set<std::string>>();
  const std::set<std::string> hadamard = meta.at("online_hadamard").get<std::set<std::string>>();
  const json& layers = meta.at("layers");
  std::set<std::string> applied;  // every name the artifacts list must meet a tensor of the base model
  auto place = [&](const std::string& key, at::Tensor& t, const at::Tensor& v) {
    if (v.sizes() != t.sizes())
      throw Error("'" + dir + "': " + key + " has shape " + shape_text(v.sizes().vec()) + " but the base model's is " +
                  shape_text(t.sizes().vec()) + " (made from another model?)");
    t = v.to(t.device(), m->dtype());  // the slot's device: a split model's block lives on its own
    applied.insert(key);
  };
  for_each_model_tensor(*m, head_untied(*m), [&](const std::string& key, at::Tensor& t) {
    if (changed.count(key)) place(key, t, f.load(key));
  });
  for (int i = 0; i < m->num_blocks(); ++i) {
    check_cancel(fb);
    Block& b = m->acquire(i);
    for (auto& kv : b.tensors())
      if (changed.count(kv.first)) place(kv.first, *kv.second, f.load(kv.first));
    for (auto& l : b.linears()) {
      const std::string full = linear_full_name(i, l.name());
      if (hadamard.count(full)) {
        l.input_transform = [](const at::Tensor& x) { return fast_hadamard_transform(x); };
        applied.insert(full + " (online Hadamard)");
      }
      if (act.layers.count(full)) {
        install_stored_act_quantizer(l, full, act, f, dir, *m);
        applied.insert(full + " (activation quantizer)");
      }
      auto it = layers.find(full);
      if (it == layers.end()) continue;
      QuantizedWeight q = load_quantized_weight(f, full, *it);
      place(full, l.weight, q.dequantize());
      if (forms) (*forms)[full] = q;
    }
    b.mark_modified();
    m->release(i);
    report(fb, "load quantized", i + 1, m->num_blocks());
  }
  check_all_applied(meta_path, expected_names(meta, act), applied);
  if (info) {
    info->method = meta.value("method", "");
    info->act = act.spec;
    info->kv = kv;
    if (act.spec.is_static())
      for (const auto& name : act.layers) info->act_scales[name] = f.load(name + ".act_scale");
  }
  return m;
}

}  // namespace ptq
