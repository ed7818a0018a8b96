// The input is a model.safetensors.index.json: accepted or refused with a ptq::Error, and an
// accepted index names only shards inside the model folder.
#include <cstddef>
#include <cstdint>

#include "core/io/shard_index.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  try {
    ptq::ShardIndex idx = ptq::parse_shard_index(ptq::parse_json(text, text + size, "fuzz index"), "fuzz index");
    for (const auto& s : idx.shards)
      if (s.empty() || s[0] == '/' || s == ".." || s.rfind("../", 0) == 0 || s.find("/../") != std::string::npos ||
          (s.size() >= 3 && s.compare(s.size() - 3, 3, "/..") == 0))
        __builtin_trap();
  } catch (const ptq::Error&) {
  }
  return 0;
}
