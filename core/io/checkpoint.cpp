#include "core/io/checkpoint.h"

#include "core/io/shard_index.h"

#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/runtime/text_util.h"
#include "core/records/json_util.h"
#include "core/model/model_layout.h"

namespace ptq {

namespace {

// The tensors config.json implies, counted without listing them, so that a config claiming
// 10^12 layers or 10^10 experts is refused before anything is allocated for it.
// (ModelConfig bounds the layer and expert counts, so each layer's list is small.)
uint64_t expected_tensor_count(const ModelConfig& c) {
  uint64_t n = 2 + (c.tie_word_embeddings ? 0 : 1);  // embeddings, final norm, untied head
  for (int64_t layer = 0; layer < c.num_layers; ++layer) {
    n += block_norms(c, layer).size();
    for (const auto& s : block_linears(c, layer)) n += s.bias ? 2 : 1;
  }
  return n;
}

// When config.json implies more tensors than the checkpoint holds, names a missing one without
// listing them all: one per layer (its first norm) and the last expert of each layer.
void find_missing_layer_tensor(const Checkpoint& ck, uint64_t want, size_t have) {
  const ModelConfig& c = ck.config();
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = block_key_prefix(c, int(l));
    std::string probe = block_norms(c, l).front().name;
    if (ck.has(probe) && c.is_moe()) probe = p + "block_sparse_moe.experts." + std::to_string(c.num_experts - 1) + ".w1.weight";
    if (!ck.has(probe))
      throw Error("tensor '" + probe + "' is missing from the checkpoint in '" + ck.dir() + "' (config.json declares " +
                  "num_hidden_layers " + std::to_string(c.num_layers) +
                  (c.is_moe() ? " and num_local_experts " + std::to_string(c.num_experts) : std::string()) + ", which need " +
                  std::to_string(want) + " tensors; the checkpoint holds " + std::to_string(have) + ")");
  }
}

void check_config_against_tensors(const Checkpoint& ck) {
  const ModelConfig& c = ck.config();
  const uint64_t want = expected_tensor_count(c);
  const size_t have = ck.tensor_names().size();
  // Every layer (and its last expert) present bounds the list below by the tensors that exist.
  if (want > have) find_missing_layer_tensor(ck, want, have);
  for (const auto& t : expected_tensors(c)) {
    if (!ck.has(t.name)) throw Error("tensor '" + t.name + "' is missing from the checkpoint in '" + ck.dir() + "'");
    const TensorInfo& ti = ck.info(t.name);
    if (ti.shape != t.shape)
      throw Error("tensor '" + t.name + "' has shape " + shape_text(ti.shape) + " but config.json implies " +
                  shape_text(t.shape) + " (" + ck.dir() + ")");
    if (!is_float_safetensors_dtype(ti.dtype))
      throw Error("tensor '" + t.name + "' is stored as " + ti.dtype + " in '" + ck.dir() +
                  "'; model parameters must be F16, BF16, F32 or F64");
  }
}

}  // namespace

std::shared_ptr<Checkpoint> Checkpoint::open(const std::string& dir) {
  if (!is_directory(dir)) throw Error("model folder '" + dir + "' does not exist or is not a directory");
  auto ck = std::shared_ptr<Checkpoint>(new Checkpoint());
  ck->dir_ = dir;
  ck->config_ = ModelConfig::load(join_path(dir, "config.json"));
  const std::string single = join_path(dir, "model.safetensors");
  const std::string index = join_path(dir, "model.safetensors.index.json");
  ShardIndex idx;
  if (file_exists(index)) {
    idx = read_shard_index(dir, index);
  } else if (file_exists(single)) {
    idx.shards.push_back("model.safetensors");
  } else {
    throw Error("no weights in '" + dir + "': expected model.safetensors or model.safetensors.index.json");
  }
  for (const auto& s : idx.shards) {
    ck->files_.push_back(std::make_unique<SafetensorsFile>(join_path(dir, s)));
    const size_t k = ck->files_.size() - 1;
    for (const auto& kv : ck->files_.back()->tensors()) {
      auto [it, fresh] = ck->where_.emplace(kv.first, k);
      if (!fresh)
        throw Error("tensor '" + kv.first + "' is stored in two shards, '" + idx.shards[it->second] + "' and '" + s +
                    "' (" + dir + ")");
    }
  }
  for (const auto& kv : idx.weight_map) {
    auto it = ck->where_.find(kv.first);
    if (it == ck->where_.end() || idx.shards[it->second] != kv.second)
      throw Error("'" + index + "' lists tensor '" + kv.first + "' in shard '" + kv.second + "', which does not hold it");
  }
  const nlohmann::json raw = read_json_file(join_path(dir, "config.json"));
  if (raw.is_object() && raw.contains("quantization_config") && !raw["quantization_config"].is_null())
    ck->open_quantized(raw["quantization_config"]);
  check_config_against_tensors(*ck);
  return ck;
}

HfTensorSource Checkpoint::stored_source() const {
  HfTensorSource src;
  src.has = [this](const std::string& n) { return where_.count(n) > 0; };
  src.info = [this](const std::string& n) -> const TensorInfo& { return files_[where_.at(n)]->info(n); };
  src.load = [this](const std::string& n) { return load_stored(n); };
  return src;
}

void Checkpoint::open_quantized(const nlohmann::json& qc) {
  const std::string where = join_path(dir_, "config.json");
  hf_quant_ = std::make_shared<HfQuantConfig>(parse_hf_quant_config(qc, where));
  std::vector<std::string> stored;
  for (const auto& kv : where_) stored.push_back(kv.first);
  const HfTensorSource src = stored_source();
  const auto modules = hf_quantized_modules(*hf_quant_, stored, src, where);
  std::string note;
  if (hf_quant_->method == HfQuantMethod::Gptq) gptq_zeros_ = detect_gptq_zeros(*hf_quant_, modules, src, &note);
  for (const auto& [m, mod] : modules) {
    for (const auto& p : mod.parts) hidden_parts_[p] = true;
    quantized_[m + ".weight"] = {m, mod};
    TensorInfo ti;
    ti.name = m + ".weight";
    ti.dtype = "F32";
    ti.shape = mod.shape;
    dequantized_info_[ti.name] = ti;
  }
  const HfWeightScheme& w = hf_quant_->method == HfQuantMethod::CompressedTensors ? hf_quant_->groups.front().weights
                                                                                   : hf_quant_->weights;
  quantization_ = {{"quant_method", hf_quant_method_name(hf_quant_->method)},
                   {"format", hf_quant_->format},
                   {"bits", w.bits},
                   {"group_size", w.group_size},
                   {"sym", w.symmetric},
                   {"desc_act", w.actorder},
                   {"quantized_modules", modules.size()},
                   {"quantization_config", qc}};
  if (hf_quant_->method == HfQuantMethod::Gptq) {
    quantization_["zero_convention"] = gptq_zeros_ == GptqZeros::V1 ? "gptq" : "gptq_v2";
    quantization_["zero_convention_note"] = note;
  }
}

HfLinearForm Checkpoint::quantized_form(const std::string& weight_key) const {
  auto it = quantized_.find(weight_key);
  if (it == quantized_.end()) throw Error("tensor '" + weight_key + "' is not quantized in '" + dir_ + "'");
  return read_hf_linear(*hf_quant_, it->second.first, it->second.second, gptq_zeros_, stored_source());
}

at::Tensor Checkpoint::load_stored(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("tensor '" + name + "' is missing from the checkpoint in '" + dir_ + "'");
  const SafetensorsFile& f = *files_[it->second];
  const std::string& d = f.info(name).dtype;
  return d == "F8_E4M3" || d == "F8_E5M2" ? f.load_fp8_bytes(name) : f.load(name);
}

const TensorInfo& Checkpoint::info(const std::string& name) const {
  auto d = dequantized_info_.find(name);
  if (d != dequantized_info_.end()) return d->second;
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("tensor '" + name + "' is missing from the checkpoint in '" + dir_ + "'");
  return files_[it->second]->info(name);
}

at::Tensor Checkpoint::load(const std::string& name) const {
  if (quantized_.count(name)) return quantized_form(name).dequantize();
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("tensor '" + name + "' is missing from the checkpoint in '" + dir_ + "'");
  return files_[it->second]->load(name);
}

at::Tensor Checkpoint::load_pinned(const std::string& name) const {
  if (quantized_.count(name)) return pinned_copy(load(name));
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("tensor '" + name + "' is missing from the checkpoint in '" + dir_ + "'");
  return files_[it->second]->load(name, at::TensorOptions().pinned_memory(true));
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> v;
  for (const auto& kv : where_)
    if (!hidden_parts_.count(kv.first) && !dequantized_info_.count(kv.first)) v.push_back(kv.first);
  for (const auto& kv : dequantized_info_) v.push_back(kv.first);
  return v;
}

uint64_t Checkpoint::size_on_disk() const {
  uint64_t n = 0;
  for (const auto& f : files_) n += f->file_size();
  return n;
}

std::string Checkpoint::stored_dtype() const { return info(embedding_key(config_)).dtype; }

std::string Checkpoint::tokenizer_path() const {
  std::string p = join_path(dir_, "tokenizer.json");
  return file_exists(p) ? p : "";
}

}  // namespace ptq
