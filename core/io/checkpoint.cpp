#include "core/io/checkpoint.h"

#include <set>

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
}  // namespace

std::shared_ptr<Checkpoint> Checkpoint::open(const std::string& dir) {
  if (!is_directory(dir)) throw Error("model folder '" + dir + "' does not exist or is not a directory");
  auto ck = std::shared_ptr<Checkpoint>(new Checkpoint());
  ck->dir_ = dir;
  ck->config_ = ModelConfig::load(join_path(dir, "config.json"));
  const std::string single = join_path(dir, "model.safetensors");
  const std::string index = join_path(dir, "model.safetensors.index.json");
  std::vector<std::string> shards;
  if (file_exists(index)) {
    json idx = read_json_file(index);
    if (!idx.contains("weight_map") || !idx["weight_map"].is_object())
      throw Error("'" + index + "' has no 'weight_map' object");
    std::set<std::string> seen;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      std::string f = it.value().get<std::string>();
      if (seen.insert(f).second) shards.push_back(f);
    }
    for (const auto& s : shards) {
      std::string p = join_path(dir, s);
      if (!file_exists(p)) throw Error("shard '" + p + "' named in '" + index + "' is missing");
    }
  } else if (file_exists(single)) {
    shards.push_back("model.safetensors");
  } else {
    throw Error("no weights in '" + dir + "': expected model.safetensors or model.safetensors.index.json");
  }
  for (const auto& s : shards) {
    ck->files_.push_back(std::make_unique<SafetensorsFile>(join_path(dir, s)));
    for (const auto& kv : ck->files_.back()->tensors()) ck->where_[kv.first] = ck->files_.size() - 1;
  }
  for (const auto& t : expected_tensors(ck->config_)) {
    if (!ck->has(t.name)) throw Error("tensor '" + t.name + "' is missing from the checkpoint in '" + dir + "'");
    const TensorInfo& ti = ck->info(t.name);
    if (ti.shape != t.shape)
      throw Error("tensor '" + t.name + "' has shape " + shape_str(ti.shape) + " but config.json implies " +
                  shape_str(t.shape) + " (" + dir + ")");
  }
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

std::string Checkpoint::stored_dtype() const { return info("model.embed_tokens.weight").dtype; }

std::string Checkpoint::tokenizer_path() const {
  std::string p = join_path(dir_, "tokenizer.json");
  return file_exists(p) ? p : "";
}

}  // namespace ptq
