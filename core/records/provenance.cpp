#include "core/records/provenance.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>

#include "core/io/checkpoint.h"
#include "core/model/model_layout.h"
#include "core/records/build_info.h"
#include "core/records/json_util.h"
#include "core/records/sha256.h"
#include "core/runtime/device.h"

namespace ptq {

namespace {

std::string absolute_path(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf)) return buf;
  if (!p.empty() && p[0] == '/') return p;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return p;
  return join_path(cwd, p);
}

std::string base_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Sorted "name dtype [shape]" lines of every tensor in the checkpoint.
std::string tensor_index_text(const Checkpoint& ck) {
  auto names = ck.tensor_names();
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) {
    const TensorInfo& ti = ck.info(n);
    out += n + " " + ti.dtype + " [";
    for (size_t i = 0; i < ti.shape.size(); ++i) out += (i ? "," : "") + std::to_string(ti.shape[i]);
    out += "]\n";
  }
  return out;
}

}  // namespace

nlohmann::json model_provenance(const std::string& model_dir) {
  auto ck = Checkpoint::open(model_dir);
  const ModelConfig& c = ck->config();
  const std::string abs = absolute_path(model_dir);
  nlohmann::json out = {{"path", abs},
          {"name", base_name(abs)},
          {"architecture", c.architecture},
          {"model_type", c.model_type},
          {"parameters", parameter_count(c)},
          {"layers", c.num_layers},
          {"config_sha256", sha256_file(join_path(model_dir, "config.json"))},
          {"index_sha256", sha256_hex(tensor_index_text(*ck))}};
  if (!ck->quantization().is_null()) out["quantization"] = ck->quantization();  // a GPTQ / AWQ / compressed-tensors folder
  return out;
}

nlohmann::json runtime_provenance(const std::string& device) {
  at::Device d = parse_device(device);
  std::string dev = d.is_cuda() ? "cuda:" + std::to_string(d.index() < 0 ? 0 : d.index()) + " " + device_description(d)
                                : "cpu";
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  const std::string cuda = cuda_version();
  const std::string reason = build_commit_reason();
  return {{"git_commit", build_git_commit()},
          {"git_dirty", build_git_dirty()},
          {"git_commit_note", reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason)},
          {"device", dev},
          {"libtorch", torch_version()},
          {"cuda", cuda.empty() ? nlohmann::json(nullptr) : nlohmann::json(cuda)},
          {"host", std::string(host)}};
}

}  // namespace ptq
