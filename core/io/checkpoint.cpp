#include "core/io/checkpoint.h"

#include "core/io/shard_index.h"

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model_layout.h"

namespace ptq {

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

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
      throw Error("tensor '" + t.name + "' has shape " + shape_str(ti.shape) + " but config.json implies " +
                  shape_str(t.shape) + " (" + ck.dir() + ")");
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
  check_config_against_tensors(*ck);
  return ck;
}

const TensorInfo& Checkpoint::info(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("tensor '" + name + "' is missing from the checkpoint in '" + dir_ + "'");
  return files_[it->second]->info(name);
}

at::Tensor Checkpoint::load(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("tensor '" + name + "' is missing from the checkpoint in '" + dir_ + "'");
  return files_[it->second]->load(name);
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> v;
  for (const auto& kv : where_) v.push_back(kv.first);
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
