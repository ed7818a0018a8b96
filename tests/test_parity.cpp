// Logits and hidden states against Hugging Face transformers references (float32, 1e-4),
// for every supported architecture, resident and streamed.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cstdio>

#include "core/model/model.h"
#include "core/io/safetensors.h"
#include "tests/check.h"

using namespace ptq;

namespace {

double max_abs(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

void check_parity(const std::string& dir, bool hidden, Residency res) {
  at::NoGradGuard ng;
  SafetensorsFile ref(dir + "/reference.safetensors");
  at::Tensor ids = ref.load("input_ids");
  LoadOptions lo;
  lo.residency = res;
  auto model = Model::load(dir, lo);
  CHECK(model->streaming() == (res == Residency::Stream));
  std::vector<at::Tensor> hs;
  at::Tensor logits = model->forward(ids, nullptr, &hs);
  double d = max_abs(logits, ref.load("logits"));
  std::printf("      %s %s: max |diff| logits %.3g", dir.c_str(), residency_name(res).c_str(), d);
  if (hidden) {
    CHECK(hs.size() == 3);
    for (int i = 0; i < 3; ++i) {
      double dh = max_abs(hs[size_t(i)], ref.load("hidden_states." + std::to_string(i)));
      std::printf(", hidden.%d %.3g", i, dh);
      CHECK_MSG(dh < 1e-4, dir + ": hidden_states." + std::to_string(i) + " differ by " + std::to_string(dh));
    }
  }
  std::printf("\n");
  CHECK_MSG(d < 1e-4, dir + ": logits differ by " + std::to_string(d));
}

std::string parity(const std::string& name) { return test::shared_dir() + "/parity/" + name; }

}  // namespace

TEST_CASE("parity llama") { check_parity(parity("llama"), true, Residency::Resident); }
TEST_CASE("parity llama3-rope") { check_parity(parity("llama3-rope"), true, Residency::Resident); }
TEST_CASE("parity qwen2") { check_parity(parity("qwen2"), true, Residency::Resident); }
TEST_CASE("parity mistral (transformers 5 config layout)") { check_parity(parity("mistral"), true, Residency::Resident); }
TEST_CASE("parity mixtral") { check_parity(parity("mixtral"), true, Residency::Resident); }
TEST_CASE("parity mixtral streamed block by block") { check_parity(parity("mixtral"), true, Residency::Stream); }
// Second wave: one resident and one streamed case per architecture, from one table.
struct ParityFixture {
  const char* dir;
  const char* what;
};
const ParityFixture kSecondWave[] = {
    {"qwen3", "Qwen3: q/k norms, head_dim 32 != hidden/heads, tied"},
    {"qwen3-moe", "Qwen3-MoE: dense layer 0 (mlp_only_layers), MoE layer 1 normalised top-2, transformers 5 keys"},
    {"qwen2-moe", "Qwen2-MoE: top-2 without renormalisation, sigmoid-gated shared expert, q/k/v bias"},
    {"gemma2", "Gemma2: (1+w) norms, sandwich norms, GeGLU, soft-caps, window 16 < 40 tokens on layer 0"},
    {"gemma3", "Gemma3: q/k norms, layer_types, local/global rope bases, transformers 5 keys"},
    {"phi3", "Phi3: fused qkv_proj and gate_up_proj"},
    {"mamba", "Mamba-1: in_proj, causal conv1d, chunked selective scan, x_proj/dt_proj/A_log/D, out_proj, fp32 residual"},
    {"deepseek-v3", "DeepSeek-V3: latent attention (q/kv lora, interleaved rope), dense layer 0, grouped sigmoid top-2 "
                    "with correction bias and routed_scaling_factor, shared expert, transformers 5 keys"},
};

void register_second_wave() {
  for (const auto& f : kSecondWave)
    for (Residency r : {Residency::Resident, Residency::Stream}) {
      std::string name = std::string("parity ") + f.dir + " " + residency_name(r) + " (" + f.what + ")";
      std::string dir = f.dir;
      test::cases().push_back({test::suite_of_file(__FILE__), name, test::Speed::Fast, [dir, r] { check_parity(parity(dir), true, r); }});
    }
}
const bool kSecondWaveRegistered = (register_second_wave(), true);

TEST_CASE("parity austen-tiny") { check_parity(test::shared_dir() + "/models/austen-tiny", false, Residency::Resident); }
TEST_CASE("parity austen-small (bf16 checkpoint in float32)") {
  check_parity(test::shared_dir() + "/models/austen-small", false, Residency::Stream);
}

TEST_CASE("observer sees every linear layer with its inputs") {
  at::NoGradGuard ng;
  auto model = Model::load(parity("mixtral"));
  struct Obs : LinearObserver {
    std::map<std::string, int64_t> rows;
    void on_linear(int block, const Linear& l, const at::Tensor& in, const at::Tensor& out) override {
      CHECK(in.size(1) == l.spec.in_features && out.size(1) == l.spec.out_features && in.size(0) == out.size(0));
      rows[std::to_string(block) + "." + l.name()] += in.size(0);
    }
  } obs;
  at::Tensor ids = at::randint(0, 8192, {2, 16}, at::kLong);
  model->forward(ids, &obs);
  CHECK(obs.rows.at("0.self_attn.q_proj") == 32);
  CHECK(obs.rows.at("1.block_sparse_moe.gate") == 32);
  int64_t routed = 0;
  for (int e = 0; e < 4; ++e) {
    auto it = obs.rows.find("1.block_sparse_moe.experts." + std::to_string(e) + ".w1");
    if (it != obs.rows.end()) routed += it->second;
  }
  CHECK(routed == 32 * 2);  // top-2 routing: every token visits two experts
}

TEST_CASE("replacing a weight changes the output, restoring it restores the output") {
  at::NoGradGuard ng;
  auto model = Model::load(parity("llama"));
  at::Tensor ids = at::randint(0, 8192, {1, 12}, at::kLong);
  at::Tensor base = model->forward(ids);
  Linear& l = model->acquire(1).linear("mlp.down_proj");
  at::Tensor saved = l.weight;
  l.weight = at::zeros_like(saved);
  CHECK(max_abs(model->forward(ids), base) > 1e-3);
  l.weight = saved;
  CHECK(max_abs(model->forward(ids), base) == 0.0);
}

TEST_MAIN()
