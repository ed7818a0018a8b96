#include "core/io/shard_index.h"

#include <climits>
#include <cstdlib>

#include "core/records/json_util.h"
#include "core/runtime/errors.h"

namespace ptq {

namespace {

// Why `shard` is not a plain relative path inside the folder, or "" when it is.
std::string unsafe_shard_path(const std::string& shard) {
  if (shard.empty()) return "it is empty";
  if (shard.front() == '/') return "it is an absolute path";
  for (unsigned char c : shard)
    if (c < 0x20 || c == 0x7f) return "it contains a control character";
  size_t start = 0;
  while (start <= shard.size()) {
    size_t slash = shard.find('/', start);
    if (slash == std::string::npos) slash = shard.size();
    if (shard.compare(start, slash - start, "..") == 0 && slash - start == 2) return "it leaves the model folder ('..')";
    start = slash + 1;
  }
  return "";
}

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return "";
  return buf;
}

std::string parent_of(const std::string& p) {
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : p.substr(0, slash);
}

std::string base_of(const std::string& p) {
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

bool inside(const std::string& path, const std::string& root) {
  return root == "/" || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/');
}

}  // namespace

ShardIndex parse_shard_index(const nlohmann::json& index, const std::string& index_path) {
  if (!index.is_object()) throw Error("'" + index_path + "' is not a JSON object");
  auto wm = index.find("weight_map");
  if (wm == index.end() || !wm->is_object()) throw Error("'" + index_path + "' has no 'weight_map' object");
  ShardIndex out;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it.value().is_string())
      throw Error("'" + index_path + "': weight_map entry for tensor '" + it.key() + "' is " + it.value().type_name() +
                  ", expected the shard file name as a string");
    const std::string shard = it.value().get<std::string>();
    const std::string why = unsafe_shard_path(shard);
    if (!why.empty())
      throw Error("'" + index_path + "': shard '" + shard + "' for tensor '" + it.key() + "' is refused: " + why);
    if (out.weight_map.emplace(it.key(), shard).second) {
      bool seen = false;
      for (const auto& s : out.shards) seen |= (s == shard);
      if (!seen) out.shards.push_back(shard);
    }
  }
  return out;
}

ShardIndex read_shard_index(const std::string& dir, const std::string& index_path) {
  ShardIndex idx = parse_shard_index(read_json_file(index_path), index_path);
  const std::string root = real_path(dir);
  if (root.empty()) throw Error("cannot resolve model folder '" + dir + "'");
  // Hugging Face hub cache: <repo>/snapshots/<rev>/ links into <repo>/blobs/.
  const std::string hub_repo = base_of(parent_of(root)) == "snapshots" ? parent_of(parent_of(root)) : "";
  for (const auto& s : idx.shards) {
    const std::string p = join_path(dir, s);
    require_regular_file(p, "shard");
    const std::string real = real_path(p);
    if (!inside(real, root) && !(hub_repo.size() && inside(real, hub_repo + "/blobs")))
      throw Error("'" + index_path + "': shard '" + s + "' resolves to '" + real +
                  "', outside the model folder '" + root + "'; refusing to read it");
  }
  return idx;
}

}  // namespace ptq
