// Number formats and the activation quantizer: FP8 / FP4 rounding and the MX / NV block formats
// against values derived by hand from the formats' definitions (round to nearest even,
// saturation, subnormals, NaN), INT absmax activations per tensor / token / group, the spec keys
// and their errors.
#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/runtime/errors.h"
#include "quant/formats/activation_quant.h"
#include "quant/formats/number_formats.h"
#include "tests/check.h"

using namespace ptq;

namespace {

at::Tensor vec(const std::vector<float>& v) { return at::tensor(at::ArrayRef<float>(v)).clone(); }

// Every value of `in` rounds to `want` exactly (bitwise, so -0 and NaN are checked too).
void check_rounding(WeightFormat f, const std::vector<float>& in, const std::vector<float>& want) {
  at::Tensor got = round_to_minifloat(vec(in), f);
  for (size_t i = 0; i < in.size(); ++i) {
    const float g = got[int64_t(i)].item<float>();
    const bool ok = std::isnan(want[i]) ? std::isnan(g) : (g == want[i] && std::signbit(g) == std::signbit(want[i]));
    CHECK_MSG(ok, format_name(f) + ": " + std::to_string(in[i]) + " -> " + std::to_string(g) + ", want " +
                      std::to_string(want[i]));
  }
}

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

// E4M3 (OCP fn): bias 7, 3 mantissa bits, normals from 2^-6, subnormal quantum 2^-9, max 448.
TEST_CASE("FP8 E4M3 rounding: ties to even, subnormals, saturation, NaN") {
  check_rounding(WeightFormat::FP8_E4M3,
                 {1.0f, 1.0625f, 1.1875f, 0.3f, 240.f, 448.f, 449.f, 464.f, 1e6f, -1e6f, kInf, -kInf,
                  0.001953125f, 0.0009765625f, 0.00146484375f, 0.0029296875f, 0.015625f, 0.0146484375f, -0.0f,
                  kNaN, -2.5f},
                 {1.0f,  // exact
                  1.0f,  // 1 + 1/16: tie between 1 (even) and 1.125
                  1.25f, // 1 + 3/16: tie between 1.125 and 1.25 (even)
                  0.3125f, // quantum 2^-5 in [0.25, 0.5): 0.3 / 2^-5 = 9.6 -> 10
                  240.f, 448.f,
                  448.f, 448.f, 448.f, -448.f, 448.f, -448.f,  // saturate (no inf in E4M3fn)
                  0.001953125f,  // 2^-9, the smallest subnormal
                  0.0f,          // 2^-10: tie between 0 (even) and 2^-9
                  0.001953125f,  // 1.5 * 2^-10 > half of 2^-9
                  0.00390625f,   // 3 * 2^-10: tie between 1 and 2 (even) times 2^-9
                  0.015625f,     // 2^-6, the smallest normal
                  0.015625f,     // 7.5 * 2^-9: tie between subnormal 7 and 8 = 2^-6 (even)
                  -0.0f, kNaN, -2.5f});
}

// E5M2: bias 15, 2 mantissa bits, normals from 2^-14, subnormal quantum 2^-16, max 57344.
TEST_CASE("FP8 E5M2 rounding: ties to even, subnormals, saturation, NaN") {
  check_rounding(WeightFormat::FP8_E5M2,
                 {1.125f, 1.375f, 57344.f, 61440.f, 1e9f, -kInf, 1.52587890625e-05f, 7.62939453125e-06f,
                  2.288818359375e-05f, 6.103515625e-05f, kNaN, 3.0f},
                 {1.0f,     // tie between 1 (even) and 1.25
                  1.5f,     // tie between 1.25 and 1.5 (even)
                  57344.f,  // 1.75 * 2^15, the largest finite
                  57344.f,  // tie with 2^16 (not finite): saturates
                  57344.f, -57344.f,
                  1.52587890625e-05f,  // 2^-16
                  0.0f,                // 2^-17: tie between 0 (even) and 2^-16
                  3.0517578125e-05f,   // 3 * 2^-17: tie between 2^-16 and 2 * 2^-16 (even)
                  6.103515625e-05f,    // 2^-14, the smallest normal
                  kNaN, 3.0f});
}

// E2M1: 0, 0.5, 1, 1.5, 2, 3, 4, 6. Ties go to the even mantissa (0.25 -> 0, 0.75 -> 1, 1.25 -> 1,
// 1.75 -> 2, 2.5 -> 2, 3.5 -> 4, 5 -> 4), as compressed-tensors' cast_to_fp4 thresholds.
TEST_CASE("FP4 E2M1 rounding: every tie, saturation, NaN") {
  check_rounding(WeightFormat::FP4,
                 {0.25f, 0.26f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 5.01f, 7.0f, 100.f, -2.5f, -0.0f, kNaN, 0.1f},
                 {0.0f, 0.5f, 1.0f, 1.0f, 2.0f, 2.0f, 4.0f, 4.0f, 6.0f, 6.0f, 6.0f, -2.0f, -0.0f, kNaN, 0.0f});
}

// MXFP4: 32-element blocks, scale 2^(log2(pow2(amax)) - 2), compressed-tensors generate_mx_scales.
TEST_CASE("MXFP4 / MXFP8 blocks: E8M0 power-of-two scales as compressed-tensors computes them") {
  std::vector<float> a(64, 0.0f);
  a[0] = 3.0f;  a[1] = 1.3f;  a[2] = 0.1f;  a[3] = 0.2f;  a[4] = -3.0f;   // amax 3 -> pow2 2 -> scale 2^-1
  a[32] = 7.0f; a[33] = 1.0f; a[34] = -2.9f;  // amax 7 = 1.75 * 4 rounds up to 8 -> scale 2^1
  at::Tensor y = fake_quantize_blocks(vec(a).reshape({1, 64}), WeightFormat::MXFP4).reshape({64});
  auto at_ = [&](int i) { return y[i].item<float>(); };
  CHECK(at_(0) == 3.0f && at_(1) == 1.5f && at_(2) == 0.0f && at_(3) == 0.25f && at_(4) == -3.0f);
  CHECK(at_(5) == 0.0f);
  // 7 / 2 = 3.5: tie between 3 and 4 (even) -> 8; 1 / 2 = 0.5 exact; -2.9 / 2 = -1.45 -> -1.5 -> -3
  CHECK(at_(32) == 8.0f && at_(33) == 1.0f && at_(34) == -3.0f);
  // An all-zero block stays zero (its scale is the E8M0 minimum 2^-127).
  at::Tensor z = fake_quantize_blocks(at::zeros({2, 32}), WeightFormat::MXFP4);
  CHECK(z.abs().max().item<float>() == 0.0f);
  // MXFP8: amax 448 = 1.75 * 2^8 rounds up to 2^9 -> scale 2^(9 - 8) = 2; 448 / 2 = 224 exact;
  // 0.01 / 2 = 0.005 is an E4M3 subnormal: 0.005 / 2^-9 = 2.56 -> 3 -> 3 * 2^-9 * 2 = 0.01171875.
  std::vector<float> b(32, 0.0f);
  b[0] = 448.f; b[1] = 1.0f; b[2] = 0.01f;
  at::Tensor y8 = fake_quantize_blocks(vec(b), WeightFormat::MXFP8);
  CHECK(y8[0].item<float>() == 448.f && y8[1].item<float>() == 1.0f && y8[2].item<float>() == 0.01171875f);
  CHECK_THROWS_WITH(fake_quantize_blocks(at::ones({2, 48}), WeightFormat::MXFP4), "does not divide the width 48");
}

// NVFP4: global = 448·6 / amax(tensor); block scale fp8_e4m3(global · amax(block) / 6); the
// element x / (s / global) rounded to E2M1 (compressed-tensors calculate_qparams + _quantize).
TEST_CASE("NVFP4 blocks: FP8 E4M3 block scales under the FP32 global scale") {
  std::vector<float> a(32, 0.0f);
  a[0] = 6.0f; a[1] = 1.25f; a[2] = 2.5f;  // block 0: amax 6 = tensor amax: global 448, s = 448, scale 1
  a[16] = 0.3f; a[17] = 0.1f;               // block 1: 448 · 0.3 / 6 = 22.4 -> E4M3 22 (quantum 2)
  at::Tensor y = fake_quantize_blocks(vec(a), WeightFormat::NVFP4);
  CHECK(y[0].item<float>() == 6.0f && y[1].item<float>() == 1.0f && y[2].item<float>() == 2.0f);
  const float s1 = 22.0f / 448.0f;  // the same float32 division the quantizer does
  // 0.3 / s1 = 6.11 -> clamp 6; 0.1 / s1 = 2.04 -> 2
  CHECK(y[16].item<float>() == 6.0f * s1 && y[17].item<float>() == 2.0f * s1);
}

TEST_CASE("INT activations: absmax scale per token, per tensor and per group, ±(2^(b-1)-1) codes") {
  ActQuantSpec s;
  s.bits = 4;  // maxq 7
  // per token: amax 7 -> scale 1: 0.5 -> 0 (tie, even), 1.5 -> 2, -2.5 -> -2, 3.2 -> 3
  at::Tensor x = vec({7.f, 0.5f, 1.5f, -2.5f, 3.2f, 0.f, 0.f, 0.f, 0.f, 0.f}).reshape({2, 5});
  at::Tensor y = fake_quantize_activation(x, s);
  CHECK(at::equal(y, vec({7.f, 0.f, 2.f, -2.f, 3.f, 0.f, 0.f, 0.f, 0.f, 0.f}).reshape({2, 5})));  // zero row stays 0
  // per tensor: amax 14 -> scale 2: 7/2 = 3.5 -> 4 -> 8; 1.5/2 = 0.75 -> 1 -> 2; -0.5/2 -> 0
  s.granularity = ActGranularity::Tensor;
  CHECK(at::equal(fake_quantize_activation(vec({7.f, 1.5f, 14.f, -0.5f}).reshape({2, 2}), s),
                  vec({8.f, 2.f, 14.f, 0.f}).reshape({2, 2})));
  // per group of 2: [7, 1.5] scale 1 -> [7, 2]; [14, 3.5] scale 2 -> [14, 4]
  s.granularity = ActGranularity::Group;
  s.group_size = 2;
  CHECK(at::equal(fake_quantize_activation(vec({7.f, 1.5f, 14.f, 3.5f}).reshape({1, 4}), s),
                  vec({7.f, 2.f, 14.f, 4.f}).reshape({1, 4})));
  // static per-tensor scale 1: values beyond the calibrated range saturate at ±7
  s.granularity = ActGranularity::Tensor;
  CHECK(at::equal(fake_quantize_activation(vec({100.f, -100.f, 2.f}).reshape({1, 3}), s, vec({1.f})),
                  vec({7.f, -7.f, 2.f}).reshape({1, 3})));
  // 8 bits, SmoothQuant's per-token absmax: scale = 127 / 127 = 1 on [127, 0.5, -3.5]
  s = ActQuantSpec{};
  s.bits = 8;
  CHECK(at::equal(fake_quantize_activation(vec({127.f, 0.5f, -3.5f}).reshape({1, 3}), s),
                  vec({127.f, 0.f, -4.f}).reshape({1, 3})));
  // bf16 input comes back in bf16 with the same shape
  at::Tensor xb = at::randn({2, 3, 8}).to(at::kBFloat16);
  at::Tensor yb = fake_quantize_activation(xb, s);
  CHECK(yb.scalar_type() == at::kBFloat16 && yb.sizes() == xb.sizes());
}

TEST_CASE("FP8 activations per token: scale amax / 448, then E4M3 rounding") {
  ActQuantSpec s;
  s.bits = 8;
  s.format = WeightFormat::FP8_E4M3;
  // amax 448 -> scale 1: 1.0625 -> 1 (tie), 0.3 -> 0.3125, 449 is the amax itself
  at::Tensor y = fake_quantize_activation(vec({448.f, 1.0625f, 0.3f, -100.f}).reshape({1, 4}), s);
  CHECK(at::equal(y, vec({448.f, 1.f, 0.3125f, -96.f}).reshape({1, 4})));  // 100 -> quantum 8 in [64,128): 12.5 -> 12 -> 96
}

TEST_CASE("activation spec: bits, formats, static scales and block sizes are checked") {
  ActQuantSpec s;
  s.bits = 9;
  CHECK_THROWS_WITH(s.validate(), "act_bits must be in 2..8 for act_format int, got 9");
  s.bits = 4;
  s.format = WeightFormat::FP8_E4M3;
  CHECK_THROWS_WITH(s.validate(), "act_bits must be 8 for act_format fp8_e4m3, got 4");
  s.format = WeightFormat::NVFP4;
  s.bits = 8;
  CHECK_THROWS_WITH(s.validate(), "act_bits must be 4 for act_format nvfp4");
  s.format = WeightFormat::NF4;
  CHECK_THROWS_WITH(s.validate(), "weight-only codebook");
  s.format = WeightFormat::MXFP4;
  s.bits = 4;
  CHECK_THROWS_WITH(s.validate_width(48, "layers.0.mlp.down_proj"),
                    "layer layers.0.mlp.down_proj: activation block of 32 channels (act_format mxfp4) does not divide");
  s.validate_width(64, "x");
  s = ActQuantSpec{};
  s.bits = 8;
  parse_act_static("percentile:99.9", s);
  CHECK(s.calibration == ActCalibration::Percentile && s.percentile == 99.9);
  CHECK_THROWS_WITH(s.validate(), "per-token scales are dynamic");
  CHECK_THROWS_WITH(parse_act_static("percentile:101", s), "must be a number in (0, 100]");
  CHECK_THROWS_WITH(parse_act_static("minmax", s), "allowed: absmax, percentile:P, mse");
  s.granularity = ActGranularity::Tensor;
  s.validate();
  CHECK(s.label() == "a8-pt-static");
  ActQuantSpec f8;
  f8.bits = 8;
  f8.format = WeightFormat::FP8_E4M3;
  CHECK(f8.label() == "a8-fp8");
}

// ---- the quantizer in the pipeline -------------------------------------------------------------

#include <ATen/core/grad_mode.h>

#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"
#include "quant/pipeline/act_install.h"
#include "quant/pipeline/pipeline.h"
#include "tests/fixture_paths.h"

namespace {

QuantRequest wa_request(const std::string& method, int wbits, int64_t group, int abits) {
  QuantRequest q;
  q.method = method;
  q.plan.spec.bits = wbits;
  q.plan.spec.group_size = group;
  q.plan.act.bits = abits;
  return q;
}

void calibrate(QuantRequest& q, int64_t nsamples, int64_t seqlen) {
  q.calib.files = {test::corpus("austen-train.txt")};
  q.calib.nsamples = nsamples;
  q.calib.seqlen = seqlen;
}

// Records, per layer, whether every token's input lies on its own INT grid of ±maxq steps.
struct GridObserver : LinearObserver {
  int maxq = 7;
  std::map<std::string, bool> on_grid;
  void on_linear(int block, const Linear& l, const at::Tensor& in, const at::Tensor&) override {
    at::Tensor x = in.to(at::kFloat);
    at::Tensor q = x / (x.abs().amax(-1, true).clamp_min(1e-5) / maxq);
    // q = code · scale / scale: integral up to float32 rounding of one multiply and one divide
    bool ok = (q - q.round()).abs().max().item<float>() < 1e-3f;
    const std::string key = linear_full_name(block, l.name());
    auto it = on_grid.find(key);
    on_grid[key] = (it == on_grid.end() ? true : it->second) && ok;
  }
};

}  // namespace

TEST_CASE("activation quantizer: every quantized linear input, after the online Hadamard; bad input first") {
  at::NoGradGuard ng;
  auto model = Model::load(test::tiny());
  Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  QuantRequest q = wa_request("rotate", 8, -1, 4);
  q.plan.overrides.push_back(parse_override("layers.0.self_attn.o_proj=skip"));
  QuantResult r = quantize_model(*model, &tok, q);
  CHECK(r.activations["act_bits"] == 4 && r.activations["label"] == "a4");
  const int n_layers = model->num_blocks() * 7;
  CHECK(r.activations["quantized_inputs"] == n_layers - 1);
  CHECK(model->block(0).linear("mlp.down_proj").input_transform && model->block(0).linear("mlp.down_proj").input_quantizer);
  CHECK(!model->block(0).linear("self_attn.o_proj").input_quantizer);  // skipped layer: full precision
  GridObserver obs;
  model->forward(at::randint(0, 100, {1, 16}, at::kLong), &obs);
  // down_proj's input is on the grid after the Hadamard (quantizing before it would not be)
  for (const auto& kv : obs.on_grid) CHECK_MSG(kv.second == (kv.first != "layers.0.self_attn.o_proj"), kv.first);
  remove_activation_quantizers(*model);
  GridObserver off;
  model->forward(at::randint(0, 100, {1, 16}, at::kLong), &off);
  CHECK(!off.on_grid.at("layers.1.mlp.down_proj"));  // the check can fail: full-precision inputs are off the grid

  auto fresh = Model::load(test::tiny());
  QuantRequest st = wa_request("rtn", 8, -1, 8);
  parse_act_static("absmax", st.plan.act);
  st.plan.act.granularity = ActGranularity::Tensor;
  CHECK_THROWS_WITH(quantize_model(*fresh, &tok, st), "act_static 'absmax' calibrates activation scales on calibration data");
  const int64_t width = fresh->config().hidden_size;
  QuantRequest g = wa_request("rtn", 8, -1, 8);
  g.plan.act.granularity = ActGranularity::Group;
  g.plan.act.group_size = width + 1;
  CHECK_THROWS_WITH(quantize_model(*fresh, &tok, g), "activation group of");
}

TEST_CASE("static activation scales: absmax is the calibration maximum, percentile and mse clip below it") {
  at::NoGradGuard ng;
  Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  std::map<std::string, double> first_scale;
  for (const char* how : {"absmax", "percentile:99", "mse"}) {
    auto model = Model::load(test::tiny());
    QuantRequest q = wa_request("rtn", 8, -1, 8);
    parse_act_static(how, q.plan.act);
    q.plan.act.granularity = ActGranularity::Tensor;
    calibrate(q, 4, 64);
    QuantResult r = quantize_model(*model, &tok, q);
    CHECK(r.act_scales.size() == size_t(model->num_blocks() * 7));
    first_scale[how] = r.act_scales.at("layers.0.mlp.down_proj").item<double>();
  }
  CHECK(first_scale["percentile:99"] < first_scale["absmax"]);
  CHECK(first_scale["mse"] <= first_scale["absmax"]);
}

// austen-small, 8 windows of 256, calibration 16 x 256 (GPTQ): see the report for the numbers.
SLOW_TEST_CASE("W-A quantization on austen-small: W8A8 INT and FP8 near fp, W4A4 far worse than W4A8, QuaRot recovers") {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/models/austen-small";
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  auto ids = tok.encode(read_text_file(test::corpus("austen-test.txt")));
  PplOptions po;
  po.seqlen = 256;
  po.batch = 8;
  po.max_windows = 8;
  auto ppl_of = [&](const QuantRequest* q) {
    auto model = Model::load(dir);
    if (q) quantize_model(*model, &tok, *q);
    return perplexity(*model, ids, po).ppl;
  };
  const double fp = ppl_of(nullptr);
  QuantRequest w8a8 = wa_request("rtn", 8, -1, 8);
  w8a8.plan.spec.symmetric = true;
  w8a8.plan.spec.absmax_sym = true;  // SmoothQuant's W8A8: per-channel absmax weights, per-token activations
  const double int8 = ppl_of(&w8a8);
  QuantRequest f8 = wa_request("rtn", 8, -1, 8);
  f8.plan.spec.format = WeightFormat::FP8_E4M3;
  f8.plan.act.format = WeightFormat::FP8_E4M3;
  const double fp8 = ppl_of(&f8);
  const QuantRequest naive8 = wa_request("rtn", 4, 128, 8), naive4 = wa_request("rtn", 4, 128, 4);
  const double w4a8 = ppl_of(&naive8), w4a4 = ppl_of(&naive4);
  QuantRequest quarot = wa_request("rotate+gptq", 4, 128, 4);
  calibrate(quarot, 16, 256);
  const double rot = ppl_of(&quarot);
  std::printf("      fp %.4f  w8a8 %.4f  w8a8-fp8 %.4f  w4a8g128 %.4f  w4a4g128 %.4f  quarot w4a4g128 %.4f\n", fp, int8,
              fp8, w4a8, w4a4, rot);
  CHECK(int8 < fp * 1.01);
  CHECK(fp8 < fp * 1.01);
  CHECK(w4a4 - fp > 4 * (w4a8 - fp));
  CHECK(rot - fp < 0.5 * (w4a4 - fp));
}

// ---- weights in the new formats, --sym-style absmax, specs and sweeps ----------------------------

#include "eval/experiment/experiment_spec.h"
#include "eval/experiment/sweep.h"
#include "quant/formats/quantizer.h"

TEST_CASE("weights: MX / NV through the weight quantizer equal the block formats; absmax symmetric weights") {
  at::Tensor w = at::randn({8, 64}) * 3;
  w[0][5] = 0.f;
  for (WeightFormat f : {WeightFormat::MXFP4, WeightFormat::MXFP8, WeightFormat::NVFP4}) {
    QuantSpec s;
    s.format = f;
    s.group_size = format_block_size(f);
    QuantizedWeight q = quantize_weight(w, s);
    // the grid codes dequantize to exactly the block formats' values (same scales, same rounding)
    CHECK_MSG(at::equal(q.dequantize(), fake_quantize_blocks(w, f)), format_name(f));
    CHECK(at::equal(fake_quantize(w, s), fake_quantize_blocks(w, f)));
    const int64_t blocks = 8 * 64 / s.group_size;  // one-byte scales; NVFP4 adds its FP32 global
    CHECK(q.storage_bytes() == 8 * 64 * s.element_bits() / 8 + blocks + (f == WeightFormat::NVFP4 ? 4 : 0));
    s.group_size = 128;
    CHECK_THROWS_WITH(s.validate(64), "quantizes blocks of");
  }
  // SmoothQuant's per-channel absmax at 8 bits: scale = 127 / 127 = 1 -> [127, 0 (tie), -4 (tie)];
  // gptq's symmetric scale 2·127/255 gives other values.
  QuantSpec a;
  a.bits = 8;
  a.group_size = -1;
  a.symmetric = true;
  a.absmax_sym = true;
  at::Tensor row = vec({127.f, 0.5f, -3.5f}).reshape({1, 3});
  CHECK(at::equal(fake_quantize(row, a), vec({127.f, 0.f, -4.f}).reshape({1, 3})));
  a.absmax_sym = false;
  CHECK(!at::equal(fake_quantize(row, a), vec({127.f, 0.f, -4.f}).reshape({1, 3})));
}

TEST_CASE("specs and sweeps: act_* keys, run ids like w4a8g128, old ids unchanged, errors before work") {
  const nlohmann::json base = {{"model", "m"}, {"method", "rtn"}, {"bits", 4}, {"group", 128}};
  const ExperimentSpec plain = ExperimentSpec::from_json(base);
  nlohmann::json j = base;
  j["act_bits"] = 8;
  const ExperimentSpec wa = ExperimentSpec::from_json(j);
  CHECK(wa.plan.act.bits == 8 && wa.run_id().find(".w4a8g128.int.asym.a-int-token.") != std::string::npos);
  CHECK(plain.run_id().find(".w4g128.int.asym.") != std::string::npos && plain.run_id() != wa.run_id());
  CHECK(!plain.identity_json().contains("act_bits") && wa.identity_json()["act_bits"] == 8);
  CHECK(ExperimentSpec::from_json(wa.to_json()).run_id() == wa.run_id());  // round trip
  j["act_format"] = "fp8_e4m3";
  CHECK(ExperimentSpec::from_json(j).plan.act.label() == "a8-fp8");
  j["act_bits"] = 4;
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "act_bits must be 8 for act_format fp8_e4m3, got 4");
  j = base;
  j["act_bits"] = 8;
  j["act_granularity"] = "tensor";
  j["act_static"] = "mse";
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "'act_static' 'mse' calibrates activation scales");
  j["act_bits"] = 9;
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "act_bits");
  nlohmann::json fp = {{"model", "m"}, {"method", "fp"}, {"act_bits", 8}};
  CHECK_THROWS_WITH(ExperimentSpec::from_json(fp), "needs a quantization method");
  nlohmann::json sw = {{"models", {"m"}}, {"methods", {"fp", "rtn"}}, {"bits", {4, 8}}, {"act_bits", {0, 8, 4}}};
  const auto runs = SweepSpec::from_json(sw).expand();
  CHECK(runs.size() == 1 + 2 * 3);
  int a4 = 0;
  for (const auto& r : runs) a4 += r.plan.act.bits == 4;
  CHECK(a4 == 2);
  sw["act_bits"] = {3, 9};
  CHECK_THROWS_WITH(SweepSpec::from_json(sw), "act_bits");
  nlohmann::json mx = {{"model", "m"}, {"method", "rtn"}, {"format", "mxfp4"}};
  CHECK(ExperimentSpec::from_json(mx).plan.spec.group_size == 32);  // the block, when no group is given
}
