// Importing quantized checkpoints: a folder the workbench did not write (austen-tiny's RTN weights
// packed by the reference AutoGPTQ loop re-implemented in tests/reference/hf_quant_reference.h),
// the zero-convention detection, the reference readers' dequantization of exported tensors, and
// bad input (config against tensors, unknown quant_method, wrong packed size, refusals, targets).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cstdlib>
#include <filesystem>

#include "core/io/checkpoint.h"
#include "core/io/hf_quant_config.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/model/model_layout.h"
#include "core/records/json_util.h"
#include "core/records/provenance.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "quant/export/hf_export.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"
#include "tests/reference/hf_quant_reference.h"

using namespace ptq;
namespace ref = ptq::reference;
namespace fs = std::filesystem;

namespace {

std::string parity(const std::string& a) { return test::shared_dir() + "/parity/" + a; }

struct Run {
  std::unique_ptr<Model> model;
  QuantResult r;
};

Run rtn(const std::string& dir, int bits, int64_t group, bool sym, const std::string& method = "rtn",
        const std::string& format = "int") {
  at::NoGradGuard ng;
  Run run;
  run.model = Model::load(dir);
  QuantRequest q;
  q.method = method;
  q.plan.spec.bits = bits;
  q.plan.spec.group_size = group;
  q.plan.spec.symmetric = sym;
  q.plan.spec.format = parse_format(format);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  run.r = quantize_model(*run.model, &tok, q);
  return run;
}

HfExportOptions target(HfExportFormat f) {
  HfExportOptions o;
  o.dir = test::temp_dir("hfimport") + "/out";
  o.format = f;
  return o;
}

// GPTQ as AutoGPTQ stores it (sym, 4 bits, group 32) for austen-tiny's linears, by the test's own
// RTN and the reference pack loop; `stored_zero` 7 is v1's zero − 1, 8 is a v2 zero.
std::map<std::string, at::Tensor> write_foreign_gptq(const std::string& dir, uint32_t stored_zero, const std::string& label) {
  const std::string src = test::tiny();
  auto ck = Checkpoint::open(src);
  std::vector<std::pair<std::string, at::Tensor>> ts;
  std::map<std::string, at::Tensor> expected;
  const int64_t group = 32;
  for (const auto& name : ck->tensor_names()) {
    at::Tensor w = ck->load(name).to(at::kFloat);
    const bool linear = name.find(".layers.") != std::string::npos && w.dim() == 2;
    if (!linear) {
      ts.emplace_back(name, w);
      continue;
    }
    const std::string m = name.substr(0, name.size() - 7);
    const int64_t out = w.size(0), in = w.size(1), G = in / group;
    // gptq quant.py symmetric: scale = 2·max|w| / 15 per group, zero 8, q = clamp(round(w/s) + 8, 0, 15).
    at::Tensor wg = w.view({out, G, group});
    at::Tensor scale = (wg.abs().amax(2) * 2 / 15).clamp_min(1e-8).to(at::kHalf).to(at::kFloat);  // stored fp16
    at::Tensor q = at::clamp(at::round(wg / scale.unsqueeze(2)) + 8, 0, 15).view({out, in}).to(at::kLong);
    expected[name] = (scale.repeat_interleave(group, 1) * (q.to(at::kFloat) - 8.0f));
    const auto qw = ref::autogptq_pack_rows(ref::words_of(q.t().contiguous()), in, out, 4);
    std::vector<uint32_t> z(size_t(G * out), stored_zero);
    const auto qz = ref::transpose(ref::autogptq_pack_rows(ref::transpose(z, G, out), out, G, 4), out / 8, G);
    ts.emplace_back(m + ".qweight", ref::int32_tensor(qw, in / 8, out));
    ts.emplace_back(m + ".qzeros", ref::int32_tensor(qz, G, out / 8));
    ts.emplace_back(m + ".scales", scale.t().contiguous().to(at::kHalf));
    ts.emplace_back(m + ".g_idx", at::div(at::arange(in, at::kLong), group, "floor").to(at::kInt));
  }
  fs::create_directories(dir);
  save_safetensors(dir + "/model.safetensors", ts);
  nlohmann::json cfg = read_json_file(src + "/config.json");
  cfg["quantization_config"] = {{"quant_method", "gptq"}, {"bits", 4}, {"group_size", group}, {"desc_act", false}, {"sym", true}};
  if (!label.empty()) cfg["quantization_config"]["checkpoint_format"] = label;
  write_json_atomic(dir + "/config.json", cfg);
  fs::copy_file(src + "/tokenizer.json", dir + "/tokenizer.json");
  return expected;
}

void check_foreign(uint32_t stored_zero, const std::string& label, const std::string& want_convention) {
  at::NoGradGuard ng;
  const std::string dir = test::temp_dir("foreign") + "/gptq";
  const auto expected = write_foreign_gptq(dir, stored_zero, label);
  auto ck = Checkpoint::open(dir);
  for (const auto& [name, w] : expected) CHECK_MSG(at::equal(ck->load(name), w), "dequantized " + name);
  CHECK(ck->quantization()["zero_convention"] == want_convention);
  CHECK(model_provenance(dir)["quantization"]["quant_method"] == "gptq");
  auto m = Model::load(dir);  // opens as a model, dequantized on load
  at::Tensor logits = m->forward(at::arange(16, at::kLong).view({1, 16}));
  CHECK(at::isfinite(logits).all().item<bool>());
  std::system(("rm -rf '" + fs::path(dir).parent_path().string() + "'").c_str());
}

}  // namespace

TEST_CASE("import: a GPTQ folder packed by the reference loop, zero convention from the data") {
  check_foreign(7, "", "gptq");         // no checkpoint_format: v1 from the data (7 = 8 − 1)
  check_foreign(8, "gptq", "gptq_v2");  // labelled v1 but the symmetric zeros are 8: mislabelled v2
  check_foreign(7, "gptq_v2", "gptq");  // labelled v2 but stores zero − 1
}

TEST_CASE("export: the reference readers dequantize the exported tensors to the workbench's weights") {
  at::NoGradGuard ng;
  Run run = rtn(parity("llama"), 3, 32, true);
  HfExportOptions o = target(HfExportFormat::Gptq);
  export_hf_checkpoint(hf_export_input(*run.model, run.r, 0), o);
  SafetensorsFile f(o.dir + "/model.safetensors");
  for (const auto& [full, q] : run.r.quantized) {
    const std::string m = "model." + full;
    const int64_t out = q.codes.size(0), in = q.codes.size(1), G = q.scales.size(1);
    const auto w = ref::autogptq_unpack_rows(ref::words_of(f.load(m + ".qweight")), in, out, 3);
    const auto z = ref::transpose(ref::autogptq_unpack_rows(ref::transpose(ref::words_of(f.load(m + ".qzeros")), G, out * 3 / 32), out, G, 3), out, G);
    at::Tensor s = f.load(m + ".scales").to(at::kFloat), gi = f.load(m + ".g_idx").to(at::kLong);
    at::Tensor W = at::empty({in, out}, at::kFloat);
    auto Wa = W.accessor<float, 2>();
    auto sa = s.accessor<float, 2>();
    auto ga = gi.accessor<int64_t, 1>();
    for (int64_t i = 0; i < in; ++i) {  // qlinear_cuda_old forward: scales * (weight - (zeros + 1))
      const int64_t g = ga[i];
      for (int64_t c = 0; c < out; ++c)
        Wa[i][c] = sa[g][c] * (float(w[size_t(i * out + c)]) - float(z[size_t(g * out + c)] + 1));
    }
    CHECK_MSG(at::equal(W.t(), q.dequantize()), "reference GPTQ reader of " + full);
  }
  std::system(("rm -rf '" + fs::path(o.dir).parent_path().string() + "'").c_str());
  Run a = rtn(parity("llama"), 4, 32, false);
  HfExportOptions oa = target(HfExportFormat::Awq);
  export_hf_checkpoint(hf_export_input(*a.model, a.r, 0), oa);
  SafetensorsFile fa(oa.dir + "/model.safetensors");
  const auto& [full, q] = *a.r.quantized.begin();
  const int64_t out = q.codes.size(0), in = q.codes.size(1);
  const auto w = ref::awq_unpack(ref::words_of(fa.load("model." + full + ".qweight")), in, out / 8);
  const auto z = ref::awq_unpack(ref::words_of(fa.load("model." + full + ".qzeros")), in / 32, out / 8);
  at::Tensor s = fa.load("model." + full + ".scales").to(at::kFloat);
  at::Tensor W = at::empty({in, out}, at::kFloat);
  auto Wa = W.accessor<float, 2>();
  auto sa = s.accessor<float, 2>();
  for (int64_t i = 0; i < in; ++i)  // dequantize_gemm: (iweight - izeros) * scales
    for (int64_t c = 0; c < out; ++c)
      Wa[i][c] = (float(w[size_t(i * out + c)]) - float(z[size_t((i / 32) * out + c)])) * sa[i / 32][c];
  CHECK_MSG(at::equal(W.t(), q.dequantize()), "reference AWQ reader of " + full);
  std::system(("rm -rf '" + fs::path(oa.dir).parent_path().string() + "'").c_str());
}

TEST_CASE("import: bad quantized folders are clear errors") {
  at::NoGradGuard ng;
  Run run = rtn(parity("llama"), 4, 32, true);
  HfExportOptions o = target(HfExportFormat::Gptq);
  export_hf_checkpoint(hf_export_input(*run.model, run.r, 0), o);
  const std::string cfg_path = o.dir + "/config.json";
  const nlohmann::json cfg = read_json_file(cfg_path);
  auto with = [&](const char* key, const nlohmann::json& v) {
    nlohmann::json c = cfg;
    c["quantization_config"][key] = v;
    write_json_atomic(cfg_path, c);
  };
  with("bits", 8);
  CHECK_THROWS_WITH(Checkpoint::open(o.dir), "shape");
  with("group_size", 16);
  CHECK_THROWS_WITH(Checkpoint::open(o.dir), "scales' has shape");
  with("quant_method", "bitsandbytes");
  CHECK_THROWS_WITH(Checkpoint::open(o.dir), "quant_method 'bitsandbytes' is not supported");
  write_json_atomic(cfg_path, cfg);
  CHECK(Checkpoint::open(o.dir)->quantization()["bits"] == 4);
  // a packed tensor of the wrong size
  SafetensorsFile f(o.dir + "/model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> ts;
  for (const auto& kv : f.tensors()) {
    at::Tensor t = f.load(kv.first);
    if (kv.first == "model.layers.0.mlp.down_proj.qweight") t = t.narrow(0, 0, t.size(0) - 1).contiguous();
    ts.emplace_back(kv.first, t);
  }
  save_safetensors(o.dir + "/model.safetensors", ts);
  CHECK_THROWS_WITH(Checkpoint::open(o.dir), "model.layers.0.mlp.down_proj.weight' has shape");
  std::system(("rm -rf '" + fs::path(o.dir).parent_path().string() + "'").c_str());
}

// fuzz_hf_quant_config: an integer key given as a fraction or far out of range was read by
// nlohmann's get<int>() (4.5 truncated to 4; 1e300 cast with undefined behaviour); now an error
// naming the key and the range.
TEST_CASE("import: quantization_config integers must be whole numbers in range") {
  const nlohmann::json ok = {{"quant_method", "gptq"}, {"bits", 4}, {"group_size", 128}};
  CHECK(parse_hf_quant_config(ok, "c.json").weights.bits == 4);
  nlohmann::json frac = ok;
  frac["bits"] = 4.5;
  CHECK_THROWS_WITH(parse_hf_quant_config(frac, "c.json"), "quantization_config.bits must be a whole number in [");
  nlohmann::json huge = ok;
  huge["group_size"] = 1e300;
  CHECK_THROWS_WITH(parse_hf_quant_config(huge, "c.json"), "quantization_config.group_size must be a whole number");
  nlohmann::json wide = ok;
  wide["bits"] = int64_t(1) << 33;  // would wrap to 0 as an int
  CHECK_THROWS_WITH(parse_hf_quant_config(wide, "c.json"), "(got 8589934592)");
  nlohmann::json ct = {{"quant_method", "compressed-tensors"}, {"format", "pack-quantized"},
                       {"config_groups", {{"g", {{"targets", {"Linear"}}, {"weights", {{"num_bits", 4.0}, {"strategy", "channel"}}}}}}}};
  CHECK_THROWS_WITH(parse_hf_quant_config(ct, "c.json"), "quantization_config.num_bits must be a whole number");
}

TEST_CASE("export: what cannot be expressed is refused before anything is written") {
  at::NoGradGuard ng;
  Run run = rtn(parity("llama"), 4, 32, false);
  HfExportOptions o = target(HfExportFormat::Gptq);
  HfExportInput in = hf_export_input(*run.model, run.r, 0);
  auto& q = in.quantized.begin()->second;
  const at::Tensor saved = q.zeros.clone();
  q.zeros.index_put_({0, 0}, 0.0);
  CHECK_THROWS_WITH(export_hf_checkpoint(in, o), "zero point of 0");
  q.zeros = saved;
  in.kv_bits = 4;
  CHECK_THROWS_WITH(export_hf_checkpoint(in, o), "quantized KV cache");
  in.kv_bits = 0;
  in.act.bits = 8;
  CHECK_THROWS_WITH(export_hf_checkpoint(in, o), "weight-only format");
  in.act.bits = 0;
  o.format = HfExportFormat::Awq;
  in.quantized.begin()->second.spec.bits = 3;
  CHECK_THROWS_WITH(export_hf_checkpoint(in, o), "AWQ GEMM is 4-bit only");
  const fs::path parent = fs::path(o.dir).parent_path();
  CHECK(!fs::exists(o.dir) && fs::is_empty(parent));  // nothing half written, no temporary left
  Run nf = rtn(parity("llama"), 4, 32, true, "rtn", "nf4");
  o.format = HfExportFormat::Gptq;
  CHECK_THROWS_WITH(export_hf_checkpoint(hf_export_input(*nf.model, nf.r, 0), o), "nf4 weights are not expressible");
  Run rot = rtn(parity("llama"), 4, 32, true, "rotate");
  CHECK_THROWS_WITH(export_hf_checkpoint(hf_export_input(*rot.model, rot.r, 0), o), "online Hadamard");
  // a non-empty target: refused without force, replaced with it
  fs::create_directories(o.dir);
  { std::FILE* fp = std::fopen((o.dir + "/keep.txt").c_str(), "w"); std::fclose(fp); }
  Run ok = rtn(parity("llama"), 4, 32, true);
  CHECK_THROWS_WITH(export_hf_checkpoint(hf_export_input(*ok.model, ok.r, 0), o), "not empty");
  o.force = true;
  export_hf_checkpoint(hf_export_input(*ok.model, ok.r, 0), o);
  CHECK(!fs::exists(o.dir + "/keep.txt") && fs::exists(o.dir + "/config.json"));
  std::system(("rm -rf '" + parent.string() + "'").c_str());
}
