#pragma once
// model.safetensors.index.json of a sharded checkpoint, parsed without LibTorch.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ptq {

struct ShardIndex {
  std::vector<std::string> shards;                // shard file names, in first-mention order
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
};

// Validates the index document: a "weight_map" object whose every value is a string naming a
// shard by a relative path that stays inside the model folder (no absolute path, no ".." part,
// no empty or control characters). A tensor listed twice is refused by the JSON reader (duplicate
// key). Throws ptq::Error naming `index_path` and the tensor.
ShardIndex parse_shard_index(const nlohmann::json& index, const std::string& index_path);

// Reads and validates <dir>/model.safetensors.index.json, then resolves each shard with its
// symlinks and refuses one that lands outside the model folder. One exception: the Hugging Face
// hub cache, where snapshots/<rev>/x links to ../../blobs/<hash> inside the same repository folder.
ShardIndex read_shard_index(const std::string& dir, const std::string& index_path);

}  // namespace ptq
