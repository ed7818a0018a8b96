#include "quant/pipeline/quantized_export.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <climits>
#include <set>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/runtime/device.h"
#include "core/io/safetensors.h"
#include "quant/methods/rotation/hadamard.h"

namespace ptq {

namespace {

using nlohmann::json;

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
          {"act_scale", "float32: calibrated static activation scale of a layer's input"},
          {"changed", "full copies of every other tensor the method changed, in the compute dtype"}};
}

// Bytes of what was written, by part, beside the packed layout's bytes of the same quantized
// layers (metrics.size counts those; this folder does not store them).
json stored_bytes(const std::vector<std::pair<std::string, at::Tensor>>& ts, const QuantResult& r, uint64_t file_size) {
  json parts = {{"codes", 0},        {"scales", 0},      {"zeros", 0}, {"g_idx", 0},
                {"kept_columns", 0}, {"kept_values", 0}, {"act_scale", 0}, {"changed", 0}};
  int64_t total = 0;
  for (const auto& kv : ts) {
    const int64_t b = kv.second.numel() * int64_t(kv.second.element_size());
    const auto dot = kv.first.rfind('.');
    const std::string part = dot == std::string::npos ? "" : kv.first.substr(dot + 1);
    const bool quantized_part = r.quantized.count(kv.first.substr(0, dot == std::string::npos ? 0 : dot)) > 0;
    const std::string key = quantized_part && parts.contains(part) ? part : "changed";
    parts[key] = parts[key].get<int64_t>() + b;
    total += b;
  }
  int64_t packed = 0;
  for (const auto& kv : r.quantized) packed += kv.second.storage_bytes(2);
  return {{"file", file_size}, {"tensors", total}, {"by_part", parts}, {"quantized_layers_packed", packed}};
}

}  // namespace

bool has_quantized_artifacts(const std::string& dir) {
  return !dir.empty() && is_directory(dir) && file_exists(join_path(dir, "artifacts.json"));
}

void save_quantized_artifacts(Model& m, const QuantResult& r, const std::string& dir) {
  const Checkpoint& ck = m.checkpoint();
  std::vector<std::pair<std::string, at::Tensor>> ts;
  json layers = json::object(), changed = json::array(), hadamard = json::array();
  for (const auto& kv : r.quantized) {
    const QuantizedWeight& q = kv.second;
    ts.emplace_back(kv.first + ".codes", q.codes);
    ts.emplace_back(kv.first + ".scales", q.scales);
    if (q.zeros.defined()) ts.emplace_back(kv.first + ".zeros", q.zeros);
    if (q.g_idx.defined()) ts.emplace_back(kv.first + ".g_idx", q.g_idx);
    if (q.kept_columns.defined()) ts.emplace_back(kv.first + ".kept_columns", q.kept_columns);
    if (q.kept_values.defined()) ts.emplace_back(kv.first + ".kept_values", q.kept_values);
    layers[kv.first] = spec_json(q.spec);
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
  for (const auto& kv : r.act_scales) ts.emplace_back(kv.first + ".act_scale", kv.second.to(at::kCPU, at::kFloat));
  json meta = {{"format", "ptq-workbench.quantized"},
               {"stores", stored_form_description()},
               {"version", 1},
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

std::string shape_string(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

// A name in artifacts.json that met no tensor of the base model would silently leave that part in
// full precision: refuse instead.
void check_all_applied(const std::string& meta_path, const std::set<std::string>& changed,
                       const std::set<std::string>& hadamard, const json& layers, const std::set<std::string>& applied) {
  std::vector<std::string> missing;
  for (const auto& k : changed)
    if (!applied.count(k)) missing.push_back(k);
  for (const auto& k : hadamard)
    if (!applied.count(k + " (online Hadamard)")) missing.push_back(k + " (online Hadamard)");
  for (auto it = layers.begin(); it != layers.end(); ++it)
    if (!applied.count(it.key())) missing.push_back(it.key());
  if (missing.empty()) return;
  std::string list;
  for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
  if (missing.size() > 5) list += ", ... (" + std::to_string(missing.size()) + " in all)";
  throw Error("'" + meta_path + "' names tensors the base model does not have: " + list +
              " (were the artifacts made from another model?)");
}

// The act_* keys of ActQuantSpec::to_json back into the spec.
ActQuantSpec act_spec_from(const json& j) {
  ActQuantSpec a;
  a.bits = j.value("act_bits", 0);
  a.format = parse_format(j.value("act_format", std::string("int")));
  a.granularity = parse_act_granularity(j.value("act_granularity", std::string("token")));
  a.group_size = j.value("act_group", int64_t(128));
  parse_act_static(j.value("act_static", std::string("dynamic")), a);
  a.qkv_out = j.value("act_qkv_out", false);
  return a;
}

QuantizedWeight read_form(const SafetensorsFile& f, const std::string& full, const json& spec) {
  QuantizedWeight q;
  q.spec = spec_from(spec);
  q.codes = f.load(full + ".codes");
  q.scales = f.load(full + ".scales");
  if (f.contains(full + ".zeros")) q.zeros = f.load(full + ".zeros");
  if (f.contains(full + ".g_idx")) q.g_idx = f.load(full + ".g_idx");
  if (f.contains(full + ".kept_columns")) q.kept_columns = f.load(full + ".kept_columns");
  if (f.contains(full + ".kept_values")) q.kept_values = f.load(full + ".kept_values");
  return q;
}

}  // namespace

std::unique_ptr<Model> load_quantized_model(const std::string& dir, const LoadOptions& opts, Feedback* fb) {
  return load_quantized_model(dir, opts, fb, "", nullptr, nullptr);
}

std::unique_ptr<Model> load_quantized_model(const std::string& dir, const LoadOptions& opts, Feedback* fb,
                                            const std::string& base_override,
                                            std::map<std::string, QuantizedWeight>* forms, QuantizedArtifactsInfo* info) {
  const std::string meta_path = join_path(dir, "artifacts.json");
  if (!file_exists(meta_path))
    throw Error("'" + dir + "' holds no quantized model (artifacts.json missing; write one with ptq quantize --out)");
  json meta = read_json_file(meta_path);
  if (meta.value("format", "") != "ptq-workbench.quantized")
    throw Error("'" + meta_path + "' is not a ptq-workbench quantized-model description");
  const std::string base = base_override.empty() ? meta.at("base_model").get<std::string>() : base_override;
  if (!is_directory(base)) throw Error("the base checkpoint '" + base + "' named in " + meta_path + " is missing");
  SafetensorsFile f(join_path(dir, "quantized.safetensors"));
  auto m = Model::load(base, opts, fb);
  if (meta.value("untied_head", false)) m->untie_head();
  std::set<std::string> changed = meta.at("changed").get<std::set<std::string>>();
  std::set<std::string> hadamard = meta.at("online_hadamard").get<std::set<std::string>>();
  const json& layers = meta.at("layers");
  std::set<std::string> applied;  // every name the artifacts list must meet a tensor of the base model
  auto place = [&](const std::string& key, at::Tensor& t, const at::Tensor& v) {
    if (v.sizes() != t.sizes())
      throw Error("'" + dir + "': " + key + " has shape " + shape_string(v) + " but the base model's is " +
                  shape_string(t) + " (made from another model?)");
    t = v.to(m->device(), m->dtype());
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
      auto it = layers.find(full);
      if (it == layers.end()) continue;
      QuantizedWeight q = read_form(f, full, *it);
      place(full, l.weight, q.dequantize());
      if (forms) (*forms)[full] = q;
    }
    b.mark_modified();
    m->release(i);
    report(fb, "load quantized", i + 1, m->num_blocks());
  }
  check_all_applied(meta_path, changed, hadamard, layers, applied);
  if (info) {
    info->method = meta.value("method", "");
    const json act = meta.value("activations", json());
    if (act.is_object() && !act.empty()) info->act = act_spec_from(act);
    for (const auto& kv : f.tensors()) {
      const std::string& k = kv.first;
      if (k.size() > 10 && k.compare(k.size() - 10, 10, ".act_scale") == 0) info->act_scales[k.substr(0, k.size() - 10)] = f.load(k);
    }
  }
  return m;
}

}  // namespace ptq
