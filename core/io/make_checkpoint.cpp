#include "core/io/make_checkpoint.h"

#include <sys/stat.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstdio>

#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model_layout.h"
#include "core/io/safetensors.h"

namespace ptq {

namespace {

struct Preset {
  const char* name;
  const char* arch;
  int64_t hidden, inter, layers, heads, kv, vocab;
  double theta, eps;
  int64_t experts, topk, max_pos;
  bool tied;
  bool llama3_rope;
};

// Shapes from the models' published config.json files.
const Preset kPresets[] = {
    {"llama-2-7b", "LlamaForCausalLM", 4096, 11008, 32, 32, 32, 32000, 1e4, 1e-5, 0, 0, 4096, false, false},
    {"llama-2-13b", "LlamaForCausalLM", 5120, 13824, 40, 40, 40, 32000, 1e4, 1e-5, 0, 0, 4096, false, false},
    {"llama-2-70b", "LlamaForCausalLM", 8192, 28672, 80, 64, 8, 32000, 1e4, 1e-5, 0, 0, 4096, false, false},
    {"llama-3-8b", "LlamaForCausalLM", 4096, 14336, 32, 32, 8, 128256, 5e5, 1e-5, 0, 0, 8192, false, false},
    {"llama-3.1-8b", "LlamaForCausalLM", 4096, 14336, 32, 32, 8, 128256, 5e5, 1e-5, 0, 0, 131072, false, true},
    {"llama-3-70b", "LlamaForCausalLM", 8192, 28672, 80, 64, 8, 128256, 5e5, 1e-5, 0, 0, 8192, false, false},
    {"llama-3.2-1b", "LlamaForCausalLM", 2048, 8192, 16, 32, 8, 128256, 5e5, 1e-5, 0, 0, 131072, true, true},
    {"mistral-7b", "MistralForCausalLM", 4096, 14336, 32, 32, 8, 32000, 1e4, 1e-5, 0, 0, 32768, false, false},
    {"mixtral-8x7b", "MixtralForCausalLM", 4096, 14336, 32, 32, 8, 32000, 1e6, 1e-5, 8, 2, 32768, false, false},
    {"qwen2-7b", "Qwen2ForCausalLM", 3584, 18944, 28, 28, 4, 152064, 1e6, 1e-6, 0, 0, 32768, false, false},
    {"qwen2-0.5b", "Qwen2ForCausalLM", 896, 4864, 24, 14, 2, 151936, 1e6, 1e-6, 0, 0, 32768, true, false},
    {"tiny-llama", "LlamaForCausalLM", 64, 128, 2, 4, 2, 8192, 1e4, 1e-6, 0, 0, 512, false, false},
    {"tiny-mixtral", "MixtralForCausalLM", 64, 128, 2, 4, 2, 8192, 1e6, 1e-5, 4, 2, 512, false, false},
};

std::string model_type_of(const std::string& arch) {
  if (arch == "MistralForCausalLM") return "mistral";
  if (arch == "MixtralForCausalLM") return "mixtral";
  if (arch == "Qwen2ForCausalLM") return "qwen2";
  return "llama";
}

std::vector<std::vector<size_t>> plan_shards(const std::vector<TensorSpec>& specs, at::ScalarType dt,
                                             int64_t shard_bytes) {  // shards of about shard_bytes each
  std::vector<std::vector<size_t>> shards(1);
  int64_t cur = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    int64_t n = int64_t(c10::elementSize(dt));
    for (auto d : specs[i].shape) n *= d;
    if (cur > 0 && cur + n > shard_bytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(i);
    cur += n;
  }
  return shards;
}

// Writes each shard atomically; `written` lists the files done so far (for the cancel cleanup).
void write_shards(const MakeCheckpointOptions& o, at::ScalarType dt, const std::vector<TensorSpec>& specs,
                  const std::vector<std::vector<size_t>>& shards, json* weight_map, std::vector<std::string>* written,
                  Feedback* fb) {
  auto gen = at::detail::createCPUGenerator(o.seed);
  size_t done = 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    if (shards.size() == 1)
      std::snprintf(name, sizeof name, "model.safetensors");
    else
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (size_t i : shards[s]) {
      check_cancel(fb);
      const TensorSpec& t = specs[i];
      at::Tensor w = mamba_initial_tensor(t.name, t.shape);
      if (!w.defined() && t.shape.size() == 1 && t.name.find("norm") != std::string::npos)
        w = at::ones(t.shape, at::kFloat);
      else if (!w.defined() && t.name.find("e_score_correction_bias") != std::string::npos)
        w = at::zeros(t.shape, at::kFloat);  // transformers initialises the router's choice bias to zeros
      else if (!w.defined())
        w = at::normal(0.0, o.init_std, t.shape, gen, at::TensorOptions().dtype(at::kFloat));
      tensors.emplace_back(t.name, w.to(dt));
      (*weight_map)[t.name] = name;
      report(fb, "make-checkpoint", int64_t(++done), int64_t(specs.size()));
    }
    check_cancel(fb);
    const std::string path = join_path(o.out_dir, name);
    save_safetensors(path, tensors, {{"format", "pt"}});
    written->push_back(path);
  }
}

// deepseek-ai/DeepSeek-V3's config.json (61 layers, 671 B parameters: make_checkpoint requires --layers).
ModelConfig deepseek_v3_preset() {
  ModelConfig c;
  c.architecture = "DeepseekV3ForCausalLM";
  c.model_type = "deepseek_v3";
  c.hidden_size = 7168;
  c.intermediate_size = 18432;
  c.num_layers = 61;
  c.num_heads = c.num_kv_heads = 128;
  c.vocab_size = 129280;
  c.max_position_embeddings = 163840;
  c.rope_theta = 10000;
  c.rms_norm_eps = 1e-6;
  c.rope_scaling.type = "yarn";
  c.rope_scaling.factor = 40;
  c.rope_scaling.original_max_position_embeddings = 4096;
  c.rope_scaling.mscale = c.rope_scaling.mscale_all_dim = 1.0;
  c.mla = true;
  DeepseekConfig& d = c.deepseek;
  d.q_lora_rank = 1536;
  d.kv_lora_rank = 512;
  d.qk_nope_head_dim = 128;
  d.qk_rope_head_dim = 64;
  d.v_head_dim = 128;
  d.n_group = 8;
  d.topk_group = 4;
  d.routed_scaling_factor = 2.5;
  d.n_shared_experts = 1;
  d.first_k_dense_replace = 3;
  c.head_dim = d.qk_rope_head_dim;
  c.moe_layout = "deepseek";
  c.num_experts = 256;
  c.experts_per_token = 8;
  c.moe_intermediate_size = 2048;
  c.norm_topk_prob = true;
  return c;
}

}  // namespace

const std::vector<std::string>& checkpoint_presets() {
  static std::vector<std::string> v = [] {
    std::vector<std::string> r;
    for (const auto& p : kPresets) r.push_back(p.name);
    for (const auto& n : mamba_presets()) r.push_back(n);
    for (const auto& n : family_presets()) r.push_back(n);
    r.push_back("deepseek-v3");
    return r;
  }();
  return v;
}

ModelConfig preset_config(const std::string& like) {
  if (auto m = mamba_preset_config(like)) return *m;
  if (auto j = family_preset_json(like, 0, "bfloat16")) return ModelConfig::from_json(*j, "make-checkpoint shape '" + like + "'");
  if (like == "deepseek-v3") return deepseek_v3_preset();
  for (const auto& p : kPresets) {
    if (like != p.name) continue;
    ModelConfig c;
    c.architecture = p.arch;
    c.model_type = model_type_of(p.arch);
    c.hidden_size = p.hidden;
    c.intermediate_size = p.inter;
    c.num_layers = p.layers;
    c.num_heads = p.heads;
    c.num_kv_heads = p.kv;
    c.head_dim = p.hidden / p.heads;
    c.vocab_size = p.vocab;
    c.rope_theta = p.theta;
    c.rms_norm_eps = p.eps;
    c.num_experts = p.experts;
    c.experts_per_token = p.topk;
    c.max_position_embeddings = p.max_pos;
    c.tie_word_embeddings = p.tied;
    c.qkv_bias = (c.model_type == "qwen2");
    if (p.llama3_rope) {
      c.rope_scaling.type = "llama3";
      c.rope_scaling.factor = 8.0;
      c.rope_scaling.low_freq_factor = 1.0;
      c.rope_scaling.high_freq_factor = 4.0;
      c.rope_scaling.original_max_position_embeddings = 8192;
    }
    return c;
  }
  std::string names;
  for (const auto& n : checkpoint_presets()) names += (names.empty() ? "" : ", ") + n;
  throw Error("unknown model shape '" + like + "' (choose one of: " + names + ")");
}

ModelConfig make_checkpoint(const MakeCheckpointOptions& o, Feedback* fb) {
  ModelConfig c = preset_config(o.like);
  if (o.layers < 0 || o.layers > (int64_t(1) << 16))
    throw Error("make-checkpoint: layers must be in 1..65536 (0 keeps the preset's " + std::to_string(c.num_layers) +
                "), got " + std::to_string(o.layers));
  if (o.like == "deepseek-v3" && o.layers == 0)
    throw Error("make-checkpoint --like deepseek-v3 needs --layers N: the full model has 61 layers and 671 B "
                "parameters (layers 0.." + std::to_string(c.deepseek.first_k_dense_replace - 1) +
                " are dense, the rest MoE with 256 experts of 44 M parameters each)");
  if (o.layers > 0) c.num_layers = o.layers;
  if (c.mla) c.deepseek.first_k_dense_replace = std::min(c.deepseek.first_k_dense_replace, c.num_layers);
  if (o.shard_bytes < 1) throw Error("make-checkpoint: shard size must be positive, got " + std::to_string(o.shard_bytes));
  at::ScalarType dt = parse_dtype(o.dtype);
  c.dtype = dtype_name(dt);
  if (o.out_dir.empty()) throw Error("make-checkpoint needs an output folder (--out DIR)");
  ::mkdir(o.out_dir.c_str(), 0755);
  if (!is_directory(o.out_dir)) throw Error("cannot create output folder '" + o.out_dir + "'");
  if (!o.tokenizer.empty()) write_file_atomic(join_path(o.out_dir, "tokenizer.json"), read_text_file(o.tokenizer));

  // The folder's old config.json and index no longer describe it once the first shard is replaced.
  std::remove(join_path(o.out_dir, "config.json").c_str());
  std::remove(join_path(o.out_dir, "model.safetensors.index.json").c_str());
  const auto specs = expected_tensors(c);
  const auto shards = plan_shards(specs, dt, o.shard_bytes);
  json weight_map = json::object();
  std::vector<std::string> written;
  try {
    write_shards(o, dt, specs, shards, &weight_map, &written, fb);
  } catch (const Cancelled&) {  // never leave a folder of some shards that looks like a checkpoint
    for (const auto& path : written) std::remove(path.c_str());
    throw;
  }
  if (shards.size() > 1) {
    int64_t total = 0;
    for (const auto& t : specs) {
      int64_t n = int64_t(c10::elementSize(dt));
      for (auto d : t.shape) n *= d;
      total += n;
    }
    write_json_atomic(join_path(o.out_dir, "model.safetensors.index.json"),
                      {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}});
  }
  const auto family = family_preset_json(o.like, c.num_layers, c.dtype);
  write_json_atomic(join_path(o.out_dir, "config.json"), family ? *family : c.to_hf_json(), 2);
  return c;
}

}  // namespace ptq
