#include "quant/export/hf_export.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "core/io/safetensors.h"
#include "core/model/model_layout.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "quant/export/hf_export_internal.h"

namespace ptq {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace hf_export_detail;

HfExportFormat parse_hf_export_format(const std::string& name) {
  if (name == "gptq") return HfExportFormat::Gptq;
  if (name == "gptq_v2") return HfExportFormat::GptqV2;
  if (name == "awq") return HfExportFormat::Awq;
  if (name == "compressed-tensors") return HfExportFormat::CompressedTensors;
  throw Error("--export-format has unknown value '" + name + "' (allowed: gptq, gptq_v2, awq, compressed-tensors)");
}

std::string hf_export_format_name(HfExportFormat f) {
  switch (f) {
    case HfExportFormat::Gptq: return "gptq";
    case HfExportFormat::GptqV2: return "gptq_v2";
    case HfExportFormat::Awq: return "awq";
    default: return "compressed-tensors";
  }
}

namespace {
// GPTQ's percdamp wherever the resolved parameters hold it (gptq, rotate+gptq, awq+gptq ...).
double find_percdamp(const json& j, double fallback) {
  if (j.is_object()) {
    if (j.contains("percdamp") && j["percdamp"].is_number()) return j["percdamp"].get<double>();
    for (const auto& v : j) {
      const double d = find_percdamp(v, -1);
      if (d >= 0) return d;
    }
  }
  return fallback;
}
}  // namespace

HfExportInput hf_export_input(Model& m, const QuantResult& r, int kv_bits) {
  HfExportInput in;
  in.model = &m;
  in.quantized = r.quantized;
  in.act = r.plan.act;
  in.act_scales = r.act_scales;
  in.kv_bits = kv_bits;
  in.method = r.method;
  in.damp_percent = find_percdamp(r.params, 0.01);
  return in;
}

void check_export_target(const std::string& dir, bool force) {
  if (dir.empty()) throw Error("--export needs a folder");
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    const fs::path parent = fs::absolute(dir).parent_path();
    if (!fs::is_directory(parent, ec)) throw Error("cannot export to '" + dir + "': folder '" + parent.string() + "' does not exist");
    return;
  }
  if (!fs::is_directory(dir, ec)) throw Error("cannot export to '" + dir + "': it exists and is not a folder");
  if (!fs::is_empty(dir, ec) && !force)
    throw Error("cannot export to '" + dir + "': the folder is not empty (use --force to replace it)");
}

namespace {

using Tensors = std::vector<std::pair<std::string, at::Tensor>>;

// An unquantized tensor in the source's stored dtype when that holds its value exactly (untouched
// tensors), else in the dtype the model computed with (changed ones: rotated, scaled, folded).
at::Tensor as_stored(const Checkpoint& ck, const std::string& key, const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU).contiguous();
  if (!ck.has(key)) return c;
  const at::ScalarType st = safetensors_to_scalar_type(ck.info(key).dtype, key);
  at::Tensor s = c.to(st);
  return at::equal(s.to(c.scalar_type()), c) ? s : c;
}

// Every tensor of the export: model-level ones, each block's unquantized tensors and the packed
// layers. `untied`: the head differs from the embedding though the config ties them.
Tensors export_tensors(const HfExportInput& in, HfExportFormat f, bool untied, std::vector<std::string>* fp8) {
  Model& m = *in.model;
  const Checkpoint& ck = m.checkpoint();
  Tensors ts;
  ts.emplace_back(embedding_key(m.config()), as_stored(ck, embedding_key(m.config()), m.embed_weight()));
  ts.emplace_back(final_norm_key(m.config()), as_stored(ck, final_norm_key(m.config()), m.norm_weight()));
  if (untied || !m.config().tie_word_embeddings)
    ts.emplace_back("lm_head.weight", as_stored(ck, untied ? embedding_key(m.config()) : "lm_head.weight", m.head_weight()));
  for (int i = 0; i < m.num_blocks(); ++i) {
    Block& b = m.acquire(i);
    std::set<const at::Tensor*> packed;
    for (auto& l : b.linears()) {
      const std::string full = linear_full_name(i, l.name());
      if (!in.quantized.count(full)) continue;
      packed.insert(&l.weight);
      const std::string key = linear_weight_key(m.config(), i, l.name());
      for (auto& t : packed_layer_tensors(in, f, full, key.substr(0, key.size() - 7), fp8)) ts.push_back(t);
    }
    for (auto& kv : b.tensors())
      if (!packed.count(kv.second)) ts.emplace_back(kv.first, as_stored(ck, kv.first, *kv.second));
    m.release(i);
  }
  return ts;
}

std::string shard_name(size_t k, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", k + 1, n);
  return buf;
}

// Writes the shards (one model.safetensors when everything fits) and the index; returns the files.
std::vector<std::string> write_weights(const fs::path& dir, const Tensors& ts, const std::vector<std::string>& fp8,
                                       uint64_t max_shard, uint64_t* total) {
  std::vector<Tensors> shards(1);
  uint64_t in_shard = 0;
  *total = 0;
  for (const auto& t : ts) {
    const uint64_t b = uint64_t(t.second.numel()) * t.second.element_size();
    if (in_shard > 0 && in_shard + b > max_shard) shards.emplace_back(), in_shard = 0;
    shards.back().push_back(t);
    in_shard += b;
    *total += b;
  }
  std::map<std::string, std::string> byte_dtypes;
  for (const auto& n : fp8) byte_dtypes[n] = "F8_E4M3";
  const std::map<std::string, std::string> meta = {{"format", "pt"}};
  std::vector<std::string> files;
  if (shards.size() == 1) {
    save_safetensors((dir / "model.safetensors").string(), shards[0], meta, byte_dtypes);
    return {"model.safetensors"};
  }
  json weight_map = json::object();
  for (size_t k = 0; k < shards.size(); ++k) {
    files.push_back(shard_name(k, shards.size()));
    save_safetensors((dir / files.back()).string(), shards[k], meta, byte_dtypes);
    for (const auto& t : shards[k]) weight_map[t.first] = files.back();
  }
  write_json_atomic((dir / "model.safetensors.index.json").string(),
                    {{"metadata", {{"total_size", *total}}}, {"weight_map", weight_map}});
  files.push_back("model.safetensors.index.json");
  return files;
}

// The source folder's files an HF folder carries besides weights and config.json.
const char* kCopied[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                         "vocab.json", "merges.txt", "added_tokens.json", "generation_config.json",
                         "chat_template.jinja", "chat_template.json"};

json write_folder(const HfExportInput& in, const HfExportOptions& o, const fs::path& tmp) {
  Model& m = *in.model;
  const bool untied = m.head_weight().data_ptr() != m.embed_weight().data_ptr() && m.config().tie_word_embeddings;
  std::vector<std::string> fp8;
  const Tensors ts = export_tensors(in, o.format, untied, &fp8);
  uint64_t total = 0;
  std::vector<std::string> files = write_weights(tmp, ts, fp8, o.max_shard_bytes, &total);
  const fs::path src = m.checkpoint().dir();
  json config = read_json_file((src / "config.json").string());  // copied, not regenerated (to_hf_json is lossy)
  const json qc = quantization_config_of(in, o.format);
  config["quantization_config"] = qc;
  if (untied) config["tie_word_embeddings"] = false;
  write_json_atomic((tmp / "config.json").string(), config);
  files.push_back("config.json");
  if (o.format == HfExportFormat::Gptq || o.format == HfExportFormat::GptqV2) {
    json q = qc;
    q.erase("quant_method");
    write_json_atomic((tmp / "quantize_config.json").string(), q);  // AutoGPTQ BaseQuantizeConfig.from_pretrained
    files.push_back("quantize_config.json");
  }
  for (const char* name : kCopied)
    if (fs::is_regular_file(src / name)) {
      fs::copy_file(src / name, tmp / name);
      files.push_back(name);
    }
  return {{"dir", o.dir}, {"format", hf_export_format_name(o.format)}, {"quantization_config", qc},
          {"files", files}, {"bytes", total}, {"quantized_modules", in.quantized.size()}};
}

// Moves tmp to dir; with `force` an existing dir is moved aside first and removed afterwards.
void put_in_place(const fs::path& tmp, const fs::path& dir, bool force) {
  std::error_code ec;
  fs::path old;
  if (fs::exists(dir)) {
    if (fs::is_empty(dir, ec)) {
      fs::remove(dir);
    } else if (force) {
      old = dir.string() + ".replaced-" + std::to_string(::getpid());
      fs::rename(dir, old);
    } else {
      throw Error("cannot export to '" + dir.string() + "': the folder is not empty (use --force to replace it)");
    }
  }
  fs::rename(tmp, dir);
  if (!old.empty()) fs::remove_all(old, ec);
}

}  // namespace

json export_hf_checkpoint(const HfExportInput& in, const HfExportOptions& o) {
  check_export_target(o.dir, o.force);
  check_hf_exportable(in, o.format);
  const fs::path dir = fs::absolute(o.dir).lexically_normal();
  const fs::path tmp = dir.string() + ".export-tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    json summary = write_folder(in, o, tmp);
    put_in_place(tmp, dir, o.force);
    return summary;
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);  // a failed export leaves nothing half written
    throw;
  }
}

}  // namespace ptq
