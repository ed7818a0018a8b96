// The binarization baselines: PB-LLM (hahnyuan/PB-LLM gptq_pb) and BiLLM (Aaronhuang-778/BiLLM):
// their conventions checked by hand, their exact storage, every parity architecture, bad input,
// and on austen-small against RTN.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/model_size.h"
#include "eval/metrics/perplexity.h"
#include "quant/methods/billm/billm.h"
#include "quant/methods/pbllm/binary_common.h"
#include "quant/methods/pbllm/pbllm.h"
#include "quant/pipeline/pipeline.h"
#include "quant/strategy_registry.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

// A weight and the Hessian 2/n XᵀX of correlated random inputs (gptq.py's scale).
struct Layer {
  at::Tensor W, H;
};

Layer random_layer(int64_t out, int64_t in, uint64_t seed) {
  at::manual_seed(seed);
  Layer l;
  l.W = at::randn({out, in}) * 0.05;
  const at::Tensor mix = at::randn({in, in}) * 0.3 + at::eye(in);
  const at::Tensor X = at::randn({512, in}).matmul(mix);
  l.H = X.t().matmul(X) * (2.0 / 512.0);
  return l;
}

// The output error the compensation minimises: tr(ΔW H ΔWᵀ).
double proxy_error(const Layer& l, const at::Tensor& Q) {
  const at::Tensor d = l.W - Q;
  return (d.matmul(l.H) * d).sum().item<double>();
}

}  // namespace

// With H = I the Cholesky factor of the damped inverse is diagonal, so GPTQ's loop moves no error
// between columns and every weight is its quantizer's value: checked against the reference's
// formulas evaluated here in double (LowQuantizer xnor: μ and α over the whole row of W·mask, the
// salient zeros included; HighQuantizer: per-row asymmetric 8 bits). Tolerance 1e-6: float32
// sums of 96 values of ~0.05 agree with double to ~1e-8.
TEST_CASE("PB-LLM: without compensation each weight is the reference's binarized or int8 value") {
  const Layer l = random_layer(6, 96, 1);
  PbllmOptions o;
  o.salient_fraction = 0.2;
  const PbllmResult r = pbllm_quantize(l.W, at::eye(96), o);
  const at::Tensor W = l.W.to(at::kDouble), Q = r.weight.to(at::kDouble);
  const at::Tensor sal = r.salient;
  // threshold: the int(576·0.8) = 460th smallest |w| is the last binarized one -> 576 - 461 salient
  CHECK(r.salient_count == 576 - 461);
  const at::Tensor thr = std::get<0>(at::sort(W.abs().flatten()))[460];
  CHECK(at::equal(sal, W.abs() > thr));
  for (int64_t i = 0; i < 6; ++i) {
    double mu = 0, alpha = 0, mn = 0, mx = 0;
    for (int64_t j = 0; j < 96; ++j) mu += (sal[i][j].item<bool>() ? 0.0 : W[i][j].item<double>()) / 96;
    for (int64_t j = 0; j < 96; ++j) alpha += std::fabs((sal[i][j].item<bool>() ? 0.0 : W[i][j].item<double>()) - mu) / 96;
    for (int64_t j = 0; j < 96; ++j) mn = std::min(mn, W[i][j].item<double>()), mx = std::max(mx, W[i][j].item<double>());
    const double scale = (mx - mn) / 255, zero = std::nearbyint(-mn / scale);
    for (int64_t j = 0; j < 96; ++j) {
      const double w = W[i][j].item<double>();
      const double expect = sal[i][j].item<bool>()
                                ? scale * (std::min(std::max(std::nearbyint(w / scale) + zero, 0.0), 255.0) - zero)
                                : (w > mu ? 1 : -1) * alpha + mu;
      CHECK_NEAR(Q[i][j].item<double>(), expect, 1e-6);
    }
  }
}

TEST_CASE("PB-LLM: compensation lowers the output error; hessian criterion and fp16 kept weights") {
  const Layer l = random_layer(32, 256, 2);
  for (const char* crit : {"magnitude", "hessian"}) {
    PbllmOptions o;
    o.criterion = crit;
    const double with = proxy_error(l, pbllm_quantize(l.W, l.H, o).weight);
    const double without = proxy_error(l, pbllm_quantize(l.W, at::eye(256), o).weight);
    CHECK_MSG(with < 0.8 * without, std::string(crit) + ": " + std::to_string(with) + " vs " + std::to_string(without));
  }
  PbllmOptions o;
  o.kept = "fp16";
  const PbllmResult r = pbllm_quantize(l.W, at::eye(256), o);  // no compensation: kept = fp16(w)
  const at::Tensor kept = r.weight.masked_select(r.salient), orig = l.W.masked_select(r.salient);
  CHECK(at::equal(kept, orig.to(at::kHalf).to(at::kFloat)));
}

// Exact bytes, written out: 16 x 128 = 2048 weights, one group per row.
// 10%: int(2048·0.9) = 1843 -> 1844 binarized, 204 salient: signs ceil(1844/8) = 231, bitmap 256
//   (indices would be 204·2 + 16·4 = 472), int8 204 + 16·3 = 252, μ/α 16·4 = 64: 803 bytes.
// 2%: int(2048·0.98) = 2007 -> 2008 binarized, 40 salient: signs 251, indices 80 + 64 = 144 (< 256),
//   int8 40 + 48 = 88, μ/α 64: 547 bytes; fp16 kept: 251 + 144 + 80 + 64 = 539.
TEST_CASE("PB-LLM: stored bytes are exact (signs, bitmap or indices, kept weights, parameters)") {
  const Layer l = random_layer(16, 128, 3);
  PbllmOptions o;
  PbllmResult r = pbllm_quantize(l.W, l.H, o);
  CHECK(r.salient_count == 204 && r.storage.mask_encoding == "bitmap" && r.q.storage_bytes() == 803);
  CHECK_NEAR(8.0 * double(r.q.storage_bytes()) / 2048.0, 3.13671875, 0.0);
  o.salient_fraction = 0.02;
  r = pbllm_quantize(l.W, l.H, o);
  CHECK(r.salient_count == 40 && r.storage.mask_encoding == "indices" && r.q.storage_bytes() == 547);
  CHECK_NEAR(8.0 * double(r.q.storage_bytes()) / 2048.0, 2.13671875, 0.0);
  o.kept = "fp16";
  CHECK(pbllm_quantize(l.W, l.H, o).q.storage_bytes() == 539);
  CHECK(at::allclose(r.q.dequantize(), r.weight));
}

TEST_CASE("PB-LLM and BiLLM: bad options are named") {
  const Layer l = random_layer(4, 32, 4);
  PbllmOptions o;
  for (double f : {0.0, 1.0, 1.5, -0.1}) {
    o.salient_fraction = f;
    CHECK_THROWS_WITH(pbllm_quantize(l.W, l.H, o), "must be in (0, 1)");
  }
  o = PbllmOptions();
  o.criterion = "random";
  CHECK_THROWS_WITH(pbllm_quantize(l.W, l.H, o), "pbllm.criterion = 'random' is not one of: magnitude, hessian");
  o = PbllmOptions();
  o.kept = "int4";
  CHECK_THROWS_WITH(pbllm_quantize(l.W, l.H, o), "pbllm.kept = 'int4' is not one of: int8, fp16");
  BillmOptions b;
  b.criterion = "random";
  CHECK_THROWS_WITH(billm_quantize(l.W, l.H, b), "billm.criterion = 'random' is not one of: magnitude, hessian");
  b = BillmOptions();
  b.blocksize = 1;
  CHECK_THROWS_WITH(billm_quantize(l.W, l.H, b), "billm.blocksize must be at least 2");
  // through the registry: the CLI's and spec's --param values
  const auto stages = parse_method("pbllm");
  CHECK_THROWS_WITH(resolve_params(stages, {{"salient_fraction", 1.0}}), "pbllm.salient_fraction = 1.0 is out of range");
  CHECK_THROWS_WITH(resolve_params(stages, {{"criterion", "random"}}), "is not one of: magnitude, hessian");
  CHECK_THROWS_WITH(resolve_params(parse_method("billm"), {{"criterion", "x"}}), "is not one of: magnitude, hessian");
  // a singular Hessian after damping (percdamp 0, a zero-variance direction) names the step
  b = BillmOptions();
  b.percdamp = 0;
  at::Tensor H = at::ones({32, 32});
  CHECK_THROWS_WITH(billm_quantize(l.W, H, b), "damped Hessian is not positive definite");
}

// binary.py high_order_residual, evaluated here in double over a mask: order 1 is sign·α + μ of
// the selected entries, order 2 adds the same of the residual; 0 outside the mask. Tolerance as
// above (float32 means of 24 values).
TEST_CASE("BiLLM: residual binarization (high_order_residual) by hand, orders 1 and 2") {
  at::manual_seed(5);
  const at::Tensor x = at::randn({3, 24});
  const at::Tensor mask = at::rand({3, 24}) < 0.6;
  for (int order : {1, 2}) {
    const at::Tensor got = residual_binarize(x, mask.to(at::kFloat), order).to(at::kDouble);
    for (int64_t i = 0; i < 3; ++i) {
      std::vector<double> r, sum;
      std::vector<int64_t> cols;
      for (int64_t j = 0; j < 24; ++j)
        if (mask[i][j].item<bool>()) cols.push_back(j), r.push_back(x[i][j].item<double>()), sum.push_back(0);
      for (int od = 0; od < order; ++od) {
        double mu = 0, a = 0;
        for (size_t k = 0; k < r.size(); ++k) mu += (r[k] - sum[k]) / double(r.size());
        for (size_t k = 0; k < r.size(); ++k) a += std::fabs(r[k] - sum[k] - mu) / double(r.size());
        for (size_t k = 0; k < r.size(); ++k) sum[k] += (r[k] - sum[k] - mu > 0 ? a : -a) + mu;
      }
      for (int64_t j = 0, k = 0; j < 24; ++j) {
        const bool in = k < int64_t(cols.size()) && cols[size_t(k)] == j;
        CHECK_NEAR(got[i][j].item<double>(), in ? sum[size_t(k)] : 0.0, 1e-6);
        k += in;
      }
    }
  }
}

// The batched searches against the reference's loops written plainly (one mask at a time, in the
// reference's order): the same salient columns and break point; the masks partition the block,
// the salient part is whole columns of the largest Σ|T|, and the split is at the break point.
TEST_CASE("BiLLM: salient-column and break-point searches as the reference's loops") {
  const Layer l = random_layer(20, 64, 6);
  const at::Tensor T = l.W.pow(2) * at::rand({1, 64});
  const BillmSplit s = billm_split(T, 50);
  const at::Tensor order = std::get<1>(at::sort(T.abs().sum(0), true, 0, true));
  auto cols_mask = [&](int64_t i) {
    at::Tensor m = at::zeros_like(T);
    m.index_fill_(1, order.slice(0, 0, i), 1.0);
    return m;
  };
  double best = 1e300;
  int64_t best_i = 0;
  for (int64_t i = 1; i < 50; ++i) {
    const at::Tensor m = cols_mask(i);
    const double e = (T - residual_binarize(T, m, 2) - residual_binarize(T, 1 - m, 2)).pow(2).mean().item<double>();
    if (e < best) best = e, best_i = i;
  }
  CHECK_MSG(s.salient_columns == best_i, std::to_string(s.salient_columns) + " vs " + std::to_string(best_i));
  const at::Tensor m3 = cols_mask(best_i), g3 = residual_binarize(T, m3, 2), a = (T * (1 - m3)).abs();
  const at::Tensor sorted = std::get<0>(at::sort(a.flatten().to(at::kDouble)));
  best = 1e300;
  double best_p = -1;
  for (int k = 0; k <= 80; ++k) {
    const double pos = (0.10 + 0.01 * k) * double(a.numel() - 1);  // np.quantile, linear
    const int64_t lo = int64_t(pos);
    const double p = float(sorted[lo].item<double>() + (pos - double(lo)) * (sorted[std::min(lo + 1, a.numel() - 1)] - sorted[lo]).item<double>());
    const at::Tensor m1 = (a < p).to(at::kFloat) * (1 - m3), m2 = (a >= p).to(at::kFloat) * (1 - m3);
    const double e = (T - residual_binarize(T, m1, 1) - residual_binarize(T, m2, 1) - g3).pow(2).mean().item<double>();
    if (e < best) best = e, best_p = p;
  }
  // the quantile positions differ from ATen's float32 linspace in the last bits: 1e-6 relative
  CHECK_NEAR(s.break_point, best_p, 1e-6 * best_p);
  CHECK(at::equal(s.salient, m3.to(at::kBool)));
  CHECK(at::equal(s.below.logical_or(s.above).logical_or(s.salient), at::ones_like(s.salient)));
  CHECK(!s.below.logical_and(s.above).any().item<bool>() && !s.above.logical_and(s.salient).any().item<bool>());
}

// Exact bytes: 16 x 256 in blocks of 128: 2·4096 bits = 1024 bytes, the column bitmap 256 bits =
// 32, 8 fp16 per row and block 16·2·16 = 512: 1568 bytes, 3.0625 bits per weight.
TEST_CASE("BiLLM: stored bytes are exact; compensation lowers the output error") {
  const Layer l = random_layer(16, 256, 7);
  BillmOptions o;
  const BillmResult r = billm_quantize(l.W, l.H, o);
  CHECK(r.q.storage_bytes() == 1568 && r.salient_columns.size() == 2);
  CHECK_NEAR(8.0 * double(r.q.storage_bytes()) / 4096.0, 3.0625, 0.0);
  CHECK(billm_storage_bytes(16, 200, 128) == 800 + 25 + 16 * 2 * 16);  // last block of 72 columns
  // Only the later blocks receive a block's error (no update inside a block, as the reference):
  // with 2 blocks the gain on random data is small (measured 55.9 vs 57.0), so only its sign.
  o.criterion = "magnitude";  // the same masks' criterion with and without H
  const double with = proxy_error(l, billm_quantize(l.W, l.H, o).weight);
  const double without = proxy_error(l, billm_quantize(l.W, at::eye(256), o).weight);
  CHECK_MSG(with < without, std::to_string(with) + " vs " + std::to_string(without));
}

// Both methods on every parity architecture (each has linear layers; Mamba's dt_proj has 8
// inputs, narrower than BiLLM's 50 searched columns): finite logits, every planned layer
// binarized at 1-4 bits per weight as its record counts them. One group per row, valid for every
// width. Two calibration windows of 16 tokens keep it cheap.
TEST_CASE("PB-LLM and BiLLM run on every parity architecture") {
  at::NoGradGuard ng;
  for (const char* arch : {"llama", "llama3-rope", "qwen2", "mistral", "mixtral", "qwen3", "qwen3-moe", "qwen2-moe",
                           "gemma2", "gemma3", "phi3", "deepseek-v3", "mamba"}) {
    const std::string dir = test::shared_dir() + "/parity/" + arch;
    Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
    for (const char* method : {"pbllm", "billm"}) {
      auto model = Model::load(dir);
      QuantRequest q;
      q.method = method;
      q.plan.spec.group_size = -1;
      q.calib.files = {test::corpus("austen-valid.txt")};
      q.calib.nsamples = 2;
      q.calib.seqlen = 16;
      const std::string what = std::string(arch) + " " + method;
      QuantResult r = quantize_model(*model, &tok, q);
      const at::Tensor logits = model->forward(at::randint(0, 8192, {1, 12}, at::kLong));
      CHECK_MSG(at::isfinite(logits).all().item<bool>(), what + ": non-finite logits");
      int quantized = 0;
      for (const auto& l : r.layers) {
        if (!l.quantized) continue;
        ++quantized;
        // BiLLM's bytes depend on the shape only; PB-LLM's at least one bit per weight (narrow
        // layers pay much more: their per-row parameters)
        const bool exact = std::string(method) == "billm"
                               ? l.storage_bytes == billm_storage_bytes(l.out_features, l.in_features, 128)
                               : l.storage_bytes * 8 > l.out_features * l.in_features;
        CHECK_MSG(l.bits == 1 && exact && std::isfinite(l.weight_rel_error) && l.note.find(method) == 0,
                  what + ": " + l.name + " " + std::to_string(l.storage_bytes) + " bytes, note " + l.note);
      }
      CHECK_MSG(quantized > 0, what + ": nothing quantized");
    }
  }
}

// The plan's group is not checked against the layers for a quantizer that declares its own
// grouping (StrategyInfo::own_grouping: BiLLM's column blocks), and still is for the others:
// group 48 divides no width of austen-tiny (hidden 128, MLP 384).
TEST_CASE("own_grouping in the registry: BiLLM runs with a plan group no layer takes, GPTQ is refused") {
  at::NoGradGuard ng;
  for (const auto& s : strategy_registry()) CHECK_MSG(s.own_grouping == (s.id == "billm"), s.id);
  CHECK(find_strategy("billm").to_json()["own_grouping"] == true);
  Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  for (const char* method : {"billm", "gptq"}) {
    auto model = Model::load(test::tiny());
    QuantRequest q;
    q.method = method;
    q.plan.spec.group_size = 48;
    q.calib.files = {test::corpus("austen-valid.txt")};
    q.calib.nsamples = 2;
    q.calib.seqlen = 16;
    if (std::string(method) == "gptq") {
      CHECK_THROWS_WITH(quantize_model(*model, &tok, q), "group_size 48 does not divide in_features 128");
      continue;
    }
    const QuantResult r = quantize_model(*model, &tok, q);
    int quantized = 0;
    for (const auto& l : r.layers) quantized += l.quantized;
    CHECK(quantized > 0);
  }
}

namespace {

struct SmallRun {
  QuantResult result;
  double ppl = 0, bits = 0;  // bits per weight of the decoder's linear layers, as the records count them
};

SmallRun quantize_small(const std::string& method, int bits, const nlohmann::json& params) {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/models/austen-small";
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  QuantRequest q;
  q.method = method;
  q.plan.spec.bits = bits;
  q.plan.spec.group_size = -1;
  q.params = params;
  if (method != "rtn") {
    q.calib.files = {test::corpus("austen-train.txt")};
    q.calib.nsamples = 8;
    q.calib.seqlen = 512;
  }
  SmallRun r;
  r.result = quantize_model(*model, &tok, q);
  int64_t bytes = 0, weights = 0;
  for (const auto& l : r.result.layers) bytes += l.storage_bytes, weights += l.out_features * l.in_features;
  r.bits = 8.0 * double(bytes) / double(weights);
  PplOptions po;
  po.seqlen = 512;
  po.batch = 8;
  po.max_windows = 8;
  r.ppl = perplexity(*model, tok.encode(read_text_file(test::corpus("austen-test.txt"))), po).ppl;
  return r;
}

}  // namespace

// The baseline is RTN w2 per channel (2 + 32/in bits: 2.03-2.08): the int quantizer has no 1-bit
// mode, and w2 per channel is the fewest bits RTN stores, more than PB-LLM's here, so beating it
// is beating RTN at the same bits. PB-LLM keeps 2% of the weights in int8 (the indices encoding
// of the mask then costs 16 bits per kept weight): about 1.7 bits per weight exactly counted.
// BiLLM's exact count is about 3 bits (two bits per weight, eight fp16 parameters per row and
// block of 128; the paper's 1.08 count neither), printed beside the RTN baseline.
// Measured (8 calibration windows, 8 test windows of 512): RTN w2 per channel 227.82 at 2.0396
// bits, PB-LLM 2% int8 156.31 at 1.6469 bits, BiLLM 135.98 at 3.0021 bits.
SLOW_TEST_CASE("PB-LLM at ~1.7 bits and BiLLM beat RTN w2 on austen-small") {
  const SmallRun rtn = quantize_small("rtn", 2, nlohmann::json::object());
  const SmallRun pb = quantize_small("pbllm", 2, {{"salient_fraction", 0.02}});
  const SmallRun bi = quantize_small("billm", 2, nlohmann::json::object());
  std::printf("      8 windows of 512: rtn w2 per-channel PPL %.2f (%.4f bits) | pbllm 2%% int8 PPL %.2f (%.4f bits) | "
              "billm PPL %.2f (%.4f bits)\n", rtn.ppl, rtn.bits, pb.ppl, pb.bits, bi.ppl, bi.bits);
  CHECK(std::isfinite(pb.ppl) && std::isfinite(bi.ppl));
  CHECK_MSG(pb.ppl < rtn.ppl && pb.bits < rtn.bits && pb.bits > 1.5 && pb.bits < 1.8, std::to_string(pb.bits));
  CHECK(bi.ppl < rtn.ppl);
  CHECK_NEAR(bi.bits, 3.0, 0.01);
}
