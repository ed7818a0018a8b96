// Checkpoint export (quant/export/hf_export.h) and import (core/io/checkpoint.h with a
// quantization_config): the bit layouts against reference packers re-implemented in
// tests/reference/hf_quant_reference.h; quantize -> export -> import gives bitwise the codes,
// scales and zeros, and the logits of the workbench's own quantized model; the reference readers'
// dequantization of the exported tensors equals the workbench's dequantized weights exactly.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdlib>

#include "core/io/checkpoint.h"
#include "core/io/quantized_layouts.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/model/model_layout.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "quant/export/hf_export.h"
#include "quant/formats/quantizer.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"
#include "tests/reference/hf_quant_reference.h"

using namespace ptq;
namespace ref = ptq::reference;

namespace {

std::string parity(const std::string& a) { return test::shared_dir() + "/parity/" + a; }

at::Tensor random_codes(int64_t rows, int64_t cols, int bits, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(0, int64_t(1) << bits, {rows, cols}, at::kLong);
}

struct Run {
  std::unique_ptr<Model> model;
  QuantResult r;
  at::Tensor ids, logits;
};

Run quantize(const std::string& arch, int bits, int64_t group, bool sym, const std::string& method = "rtn",
             nlohmann::json params = nlohmann::json::object(), const std::string& format = "int") {
  at::NoGradGuard ng;
  Run run;
  run.model = Model::load(parity(arch));
  QuantRequest q;
  q.method = method;
  q.params = params;
  q.plan.spec.bits = bits;
  q.plan.spec.group_size = group;
  q.plan.spec.symmetric = sym;
  q.plan.spec.format = parse_format(format);
  if (method != "rtn") {
    q.calib.files = {test::corpus("austen-valid.txt")};
    q.calib.nsamples = 4;
    q.calib.seqlen = 32;
  }
  Tokenizer tok = Tokenizer::from_file(parity(arch) + "/tokenizer.json");
  run.r = quantize_model(*run.model, &tok, q);
  run.ids = SafetensorsFile(parity(arch) + "/reference.safetensors").load("input_ids");
  run.logits = run.model->forward(run.ids);
  return run;
}

std::string export_run(Run& run, HfExportFormat f, uint64_t shard = 5000000000ULL) {
  HfExportOptions o;
  o.dir = test::temp_dir("hfexport") + "/out";
  o.format = f;
  o.max_shard_bytes = shard;
  export_hf_checkpoint(hf_export_input(*run.model, run.r, 0), o);
  return o.dir;
}

std::string module_of(const std::string& full) { return "model." + full; }

// Codes, scales, zeros read back bitwise; logits of the imported model vs the quantized model.
void check_round_trip(Run& run, const std::string& dir, const std::string& label) {
  at::NoGradGuard ng;
  auto ck = Checkpoint::open(dir);
  for (const auto& [full, q] : run.r.quantized) {
    HfLinearForm f = ck->quantized_form(module_of(full) + ".weight");
    CHECK_MSG(at::equal(f.codes.to(at::kLong), q.codes.to(at::kLong)), label + " codes of " + full);
    CHECK_MSG(at::equal(f.scales, q.scales), label + " scales of " + full);
    CHECK_MSG(at::equal(f.zeros, q.zeros), label + " zeros of " + full);
    CHECK_MSG(f.g_idx.defined() == q.g_idx.defined(), label + " g_idx of " + full);
    if (q.g_idx.defined()) CHECK(at::equal(f.g_idx, q.g_idx.to(at::kLong)));
    CHECK_MSG(at::equal(f.dequantize(), q.dequantize()), label + " dequantized " + full);
  }
  for (auto res : {Residency::Resident, Residency::Stream}) {
    LoadOptions lo;
    lo.residency = res;
    auto back = Model::load(dir, lo);
    // The imported weights are bitwise the workbench's, so the same forward gives the same logits;
    // 1e-5 relative is the bound (float32 accumulations of ~100 terms would allow ~1e-6).
    const double rel = ((back->forward(run.ids) - run.logits).abs().max() / run.logits.abs().max()).item<double>();
    std::printf("      %s (%s): max relative logits diff %.3g\n", label.c_str(), residency_name(res).c_str(), rel);
    CHECK_MSG(rel <= 1e-5, label + ": " + std::to_string(rel));
  }
  CHECK(!ck->quantization().is_null());
}

void remove_tree(const std::string& dir) { std::system(("rm -rf '" + dir.substr(0, dir.rfind('/')) + "'").c_str()); }

}  // namespace

TEST_CASE("export layouts: GPTQ bit stream equals AutoGPTQ pack() at 2, 3, 4, 8 bits") {
  for (int bits : {2, 3, 4, 8}) {
    const int64_t in = 64, out = 24;
    at::Tensor v = random_codes(in, out, bits, 7 + bits);
    at::Tensor packed = pack_gptq_bitstream(v, bits, 0, "test");
    CHECK(packed.size(0) == in / 32 * bits && packed.scalar_type() == at::kInt);
    const auto want = ref::autogptq_pack_rows(ref::words_of(v), in, out, bits);
    CHECK_MSG(ref::words_of(packed) == want, "qweight at " + std::to_string(bits) + " bits");
    CHECK(ref::autogptq_unpack_rows(want, in, out, bits) == ref::words_of(v));  // the reference reads it back
    CHECK(at::equal(unpack_gptq_bitstream(packed, bits, 0, in, "test").to(at::kLong), v));
    // qzeros: the same stream along the columns
    at::Tensor z = random_codes(3, 64, bits, 99);
    const auto zw = ref::transpose(ref::autogptq_pack_rows(ref::transpose(ref::words_of(z), 3, 64), 64, 3, bits), 64 / 32 * bits, 3);
    CHECK(ref::words_of(pack_gptq_bitstream(z, bits, 1, "test")) == zw);
  }
}

TEST_CASE("export layouts: AWQ GEMM order and compressed-tensors pack_to_int32") {
  at::Tensor v = random_codes(16, 40, 4, 3);
  const auto want = ref::awq_pack(ref::words_of(v), 16, 40);
  CHECK(ref::words_of(pack_awq_gemm(v, "test")) == want);
  CHECK(ref::awq_unpack(want, 16, 5) == ref::words_of(v));
  CHECK(at::equal(unpack_awq_gemm(pack_awq_gemm(v, "t"), "t").to(at::kLong), v));
  for (int bits : {4, 8}) {
    at::Tensor c = random_codes(12, 37, bits, 5);  // 37: a padded last word
    std::vector<int> s;
    for (auto u : ref::words_of(c)) s.push_back(int(u) - (1 << (bits - 1)));
    CHECK(ref::words_of(pack_ct_int32(c, bits, 1, "t")) == ref::ct_pack_dim1(s, 12, 37, bits));
    CHECK(ref::ct_unpack_dim1(ref::words_of(pack_ct_int32(c, bits, 1, "t")), 12, 37, bits) == s);
    at::Tensor z = random_codes(16, 3, bits, 6);
    std::vector<int> zs;
    for (auto u : ref::words_of(z)) zs.push_back(int(u) - (1 << (bits - 1)));
    CHECK(ref::ct_unpack_dim0(ref::words_of(pack_ct_int32(z, bits, 0, "t")), 16, 3, bits) == zs);
  }
  CHECK_THROWS_WITH(pack_gptq_bitstream(random_codes(40, 8, 3, 1), 3, 0, "x"), "multiple of 32");
  CHECK_THROWS_WITH(pack_gptq_bitstream(random_codes(32, 8, 4, 1) + 16, 4, 0, "x"), "cannot be packed at 4 bits");
}

TEST_CASE("export round trip: GPTQ v1 and v2 at 2, 3, 4, 8 bits") {
  for (int bits : {2, 3, 4, 8}) {
    Run run = quantize("llama", bits, 32, /*sym=*/true);
    for (auto f : {HfExportFormat::Gptq, HfExportFormat::GptqV2}) {
      const std::string dir = export_run(run, f);
      check_round_trip(run, dir, hf_export_format_name(f) + " w" + std::to_string(bits));
      CHECK(file_exists(dir + "/quantize_config.json") && file_exists(dir + "/tokenizer.json"));
      remove_tree(dir);
    }
  }
}

TEST_CASE("export round trip: GPTQ act-order (g_idx), AWQ, asymmetric v2") {
  Run g = quantize("llama", 4, 32, false, "gptq", {{"act_order", true}});
  CHECK(g.r.quantized.begin()->second.g_idx.defined());
  std::string dir = export_run(g, HfExportFormat::GptqV2);
  check_round_trip(g, dir, "gptq_v2 act-order");
  CHECK(read_json_file(dir + "/config.json")["quantization_config"]["desc_act"] == true);
  remove_tree(dir);
  Run a = quantize("qwen2", 4, 32, false, "awq+rtn");
  dir = export_run(a, HfExportFormat::Awq, /*shard=*/200000);  // sharded with an index
  CHECK(file_exists(dir + "/model.safetensors.index.json"));
  check_round_trip(a, dir, "awq (folded scales, sharded)");
  remove_tree(dir);
}

TEST_CASE("export round trip: compressed-tensors W4A16 / W8A16, sym and asym, group and channel") {
  for (int bits : {4, 8})
    for (bool sym : {true, false})
      for (int64_t group : {int64_t(32), int64_t(-1)}) {
        Run run = quantize("llama", bits, group, sym);
        const std::string dir = export_run(run, HfExportFormat::CompressedTensors);
        check_round_trip(run, dir, "ct w" + std::to_string(bits) + (sym ? " sym" : " asym") + " g" + std::to_string(group));
        const auto qc = read_json_file(dir + "/config.json")["quantization_config"];
        CHECK(qc["format"] == "pack-quantized");
        CHECK(qc["config_groups"]["group_0"]["weights"]["strategy"] == (group == -1 ? "channel" : "group"));
        remove_tree(dir);
      }
}

TEST_CASE("export round trip: compressed-tensors W8A8 INT8 and FP8 (weights bitwise, activation scheme in config)") {
  at::NoGradGuard ng;
  for (const std::string fmt : {"int", "fp8_e4m3"}) {
    auto model = Model::load(parity("llama"));
    QuantRequest q;
    q.plan.spec.bits = 8;
    q.plan.spec.group_size = -1;
    q.plan.spec.symmetric = true;
    q.plan.spec.format = parse_format(fmt);
    q.plan.act.bits = 8;
    q.plan.act.format = parse_format(fmt);
    q.plan.act.granularity = ActGranularity::Token;
    Tokenizer tok = Tokenizer::from_file(parity("llama") + "/tokenizer.json");
    QuantResult r = quantize_model(*model, &tok, q);
    HfExportOptions o;
    o.dir = test::temp_dir("hfw8a8") + "/out";
    o.format = HfExportFormat::CompressedTensors;
    export_hf_checkpoint(hf_export_input(*model, r, 0), o);
    const auto qc = read_json_file(o.dir + "/config.json")["quantization_config"];
    CHECK(qc["format"] == (fmt == "int" ? "int-quantized" : "float-quantized"));
    CHECK(qc["config_groups"]["group_0"]["input_activations"]["dynamic"] == true);
    CHECK(qc["config_groups"]["group_0"]["input_activations"]["strategy"] == "token");
    auto ck = Checkpoint::open(o.dir);
    for (const auto& [full, w] : r.quantized) {
      HfLinearForm f = ck->quantized_form("model." + full + ".weight");
      CHECK_MSG(at::equal(f.dequantize(), w.dequantize()), fmt + " W8A8 dequantized " + full);
      if (fmt == "int") CHECK(at::equal(f.codes.to(at::kLong), w.codes.to(at::kLong)));
    }
    remove_tree(o.dir);
  }
}

TEST_CASE("FP8 E4M3 bytes: every value of the weight grid round-trips, -0 is stored as +0, others refused") {
  const at::Tensor grid = format_grid(WeightFormat::FP8_E4M3);
  const int64_t centre = grid.size(0) / 2;
  CHECK(!std::signbit(grid[centre].item<float>()));  // the grid's zero is +0
  CHECK(at::equal(decode_fp8_e4m3(encode_fp8_e4m3(grid, "grid")), grid));
  // A tiny negative weight rounds to -0.0: it must be stored (as the +0 byte), on every CPU.
  const at::Tensor v = at::tensor({-0.0f, 0.0f, 448.0f, -448.0f, 0.001953125f, -0.001953125f});
  const at::Tensor b = encode_fp8_e4m3(v, "v").to(at::kLong);
  CHECK(at::equal(b, at::tensor({0x00, 0x00, 0x7e, 0xfe, 0x01, 0x81}, at::kLong)));
  CHECK_THROWS_WITH(encode_fp8_e4m3(at::tensor({0.3f}), "w"), "not exactly representable");
  CHECK_THROWS_WITH(encode_fp8_e4m3(at::tensor({std::nanf("")}), "w"), "NaN");
}
