// OmniQuant's learnable weight clipping (LWC; Shao et al., 2024, OpenGVLab/OmniQuant
// quantize/quantizer.py UniformAffineQuantizer(lwc=True) and quantize/omniquant.py), as a block
// quantizer. Per output channel and group two logits γ (upbound_factor) and β (lowbound_factor),
// initialised to `init` (4.0), clip the range: max' = σ(γ)·max, min' = σ(β)·min; then
//   asymmetric: scale = (max'-min')/(2^b-1) clamped to [1e-5, 1e4], zero = round_ste(-min'/scale)
//   symmetric:  scale = 2·max(|max'|,|min'|)/(2^b-1) (same clamp), zero = 2^(b-1)
//   Ŵ = scale·(clamp(round_ste(W/scale) + zero, 0, 2^b-1) - zero)
// with round_ste(x) = x + (round(x) - x).detach(). min/max follow quantizer.h (the range
// includes 0, all-zero groups use [-1, 1], clip_ratio applies before the factors), so
// σ = 1 reproduces RTN exactly. The logits are trained with AdamW (no weight decay, as
// OmniQuant's default wd = 0) on the MSE between the block's output with fake-quantized
// weights and the full-precision block's output, over `epochs` passes of the calibration
// windows, one AdamW step per `batch` windows (OmniQuant's batch_size, default 1). Training
// runs in float32 copies of the block's tensors; the block is restored to its dtype and each
// layer is committed with the integer form of the learned clipping. Non-integer formats
// (NF4/FP4/FP8) fall back to RTN.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/runtime/errors.h"
#include "quant/pipeline/block_stage.h"
#include "quant/methods/omniquant/omniquant.h"
#include "core/model/model.h"
#include "quant/pipeline/calib_staging.h"

namespace ptq {

namespace {

constexpr double kScaleMin = 1e-5;  // OmniQuant CLIPMIN
constexpr double kScaleMax = 1e4;

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

at::Tensor round_ste(const at::Tensor& x) { return x + (at::round(x) - x).detach(); }

struct LwcParams {
  at::Tensor scale, zero;  // float32 [out, n_groups]
};

void check_lwc_args(const at::Tensor& w, const at::Tensor& up, const at::Tensor& low, const QuantSpec& s) {
  if (!w.defined() || w.dim() != 2) throw Error("lwc: expected a 2-D weight [out, in]");
  if (s.format != WeightFormat::Int) throw Error("lwc: only the int format has learnable clipping");
  s.validate(w.size(1));
  const int64_t ng = s.n_groups(w.size(1));
  for (const at::Tensor* t : {&up, &low})
    if (!t->defined() || t->dim() != 2 || t->size(0) != w.size(0) || t->size(1) != ng)
      throw Error("lwc: clipping factors must be [" + std::to_string(w.size(0)) + ", " + std::to_string(ng) + "]");
}

// Scale and zero per (row, group), differentiable in the factors (and in w through min/max).
LwcParams lwc_params(const at::Tensor& w, const at::Tensor& up, const at::Tensor& low, const QuantSpec& s) {
  check_lwc_args(w, up, low, s);
  const int64_t out = w.size(0), in = w.size(1), ng = s.n_groups(in), gs = s.effective_group(in);
  const at::Tensor x = w.to(at::kFloat).reshape({out * ng, gs});
  const double maxq = std::ldexp(1.0, s.bits) - 1.0;
  at::Tensor xmin = at::clamp_max(x.amin(1), 0.0);  // the range includes 0 (quantizer.h)
  at::Tensor xmax = at::clamp_min(x.amax(1), 0.0);
  const at::Tensor dead = ((xmin == 0) & (xmax == 0)).detach();
  xmin = at::where(dead, at::full_like(xmin, -1.0), xmin);
  xmax = at::where(dead, at::full_like(xmax, 1.0), xmax);
  if (s.clip_ratio != 1.0) {
    xmin = xmin * s.clip_ratio;
    xmax = xmax * s.clip_ratio;
  }
  xmax = at::sigmoid(up.to(at::kFloat).reshape({-1})) * xmax;
  xmin = at::sigmoid(low.to(at::kFloat).reshape({-1})) * xmin;
  LwcParams p;
  const at::Tensor q = at::scalar_tensor(maxq, x.options());
  if (s.symmetric) {
    const at::Tensor amax = at::maximum(xmax.abs(), xmin.abs());
    p.scale = at::clamp((amax + amax) / q, kScaleMin, kScaleMax);
    p.zero = at::full_like(p.scale, std::ldexp(1.0, s.bits - 1)).detach();
  } else {
    p.scale = at::clamp((xmax - xmin) / q, kScaleMin, kScaleMax);
    p.zero = at::clamp(round_ste(-xmin / p.scale), 0.0, maxq);
  }
  p.scale = p.scale.reshape({out, ng});
  p.zero = p.zero.reshape({out, ng});
  return p;
}

}  // namespace

// Differentiable fake quantization of w [out, in] (float32 result) with clipping logits
// up/low [out, n_groups]. Gradients reach up/low through the STE.
at::Tensor lwc_fake_quantize(const at::Tensor& w, const at::Tensor& up, const at::Tensor& low, const QuantSpec& s) {
  const LwcParams p = lwc_params(w, up, low, s);
  const int64_t out = w.size(0), in = w.size(1), ng = p.scale.size(1);
  const double maxq = std::ldexp(1.0, s.bits) - 1.0;
  const at::Tensor x = w.to(at::kFloat).reshape({out, ng, in / ng});
  const at::Tensor scale = p.scale.unsqueeze(2), zero = p.zero.unsqueeze(2);
  const at::Tensor c = at::clamp(round_ste(x / scale) + zero, 0.0, maxq);
  return ((c - zero) * scale).reshape({out, in});
}

// Integer form under the learned clipping; its dequantize() equals lwc_fake_quantize's value.
QuantizedWeight lwc_quantize(const at::Tensor& w, const at::Tensor& up, const at::Tensor& low, const QuantSpec& s) {
  torch::NoGradGuard no_grad;
  const at::Tensor x = w.detach().to(at::kFloat);
  const LwcParams p = lwc_params(x, up.detach(), low.detach(), s);
  QuantizedWeight q;
  q.spec = s;
  q.scales = p.scale.contiguous();
  q.zeros = p.zero.contiguous();
  q.codes = quantize_codes(x, QuantParams{q.scales, q.zeros}, s);
  return q;
}

namespace {

struct LwcLayer {
  Linear* layer;
  QuantSpec spec;
  at::Tensor w0;       // float32 original weight (no grad)
  at::Tensor up, low;  // learnable logits [out, n_groups]
};

template <class T>
T param_or(const nlohmann::json& p, const char* key, T dflt) {
  return p.is_object() && p.contains(key) && !p[key].is_null() ? p[key].get<T>() : dflt;
}

// A float32 tensor usable in autograd (not an inference tensor).
at::Tensor trainable_copy(const at::Tensor& t) {
  if (!t.defined()) return t;
  at::Tensor f = t.detach().to(at::kFloat);
  return f.is_inference() ? f.clone() : f;
}

struct OmniOptions {
  int epochs = 5;
  double lr = 0.01;
  int batch = 1;
  double init = 4.0;
};

OmniOptions omni_options(const nlohmann::json& params) {
  OmniOptions o;
  o.epochs = param_or<int>(params, "epochs", 5);
  o.lr = param_or<double>(params, "lr", 0.01);
  o.batch = std::max(1, param_or<int>(params, "batch", 1));
  o.init = param_or<double>(params, "init", 4.0);
  if (o.epochs < 0) throw Error("omniquant: epochs must be >= 0, got " + std::to_string(o.epochs));
  if (!(o.lr > 0)) throw Error("omniquant: lr must be positive");
  return o;
}

// The block's integer-format layers, to be trained. Non-integer formats get RTN, committed here
// first so training sees them quantized.
std::vector<LwcLayer> lwc_layers(BlockWork& w) {
  std::vector<LwcLayer> layers;
  for (auto& l : w.block.linears()) {
    auto spec = w.spec_for(l);
    if (!spec) continue;
    if (spec->format != WeightFormat::Int) {
      check_cancel(w.fb);
      auto t0 = std::chrono::steady_clock::now();
      QuantizedWeight q = quantize_weight(l.weight.to(at::kFloat), *spec);
      commit_quantized(w, l, q, -1, since(t0),
                       "omniquant: no learnable clipping for " + format_name(spec->format) + ", RTN");
      continue;
    }
    spec->validate(l.weight.size(1));
    layers.push_back(LwcLayer{&l, *spec, {}, {}, {}});
  }
  return layers;
}

// Float32 originals and clipping logits at `init` for every layer; returns the logits to train.
std::vector<torch::Tensor> init_clipping(std::vector<LwcLayer>& layers, double init) {
  std::vector<torch::Tensor> params;
  for (auto& L : layers) {
    L.w0 = trainable_copy(L.layer->weight);
    const auto opts = at::TensorOptions().dtype(at::kFloat).device(L.w0.device());
    const int64_t ng = L.spec.n_groups(L.w0.size(1));
    L.up = torch::full({L.w0.size(0), ng}, init, opts).requires_grad_(true);
    L.low = torch::full({L.w0.size(0), ng}, init, opts).requires_grad_(true);
    params.push_back(L.up);
    params.push_back(L.low);
  }
  return params;
}

// Micro-batches of `batch` calibration windows (OmniQuant's batch_size, default 1): (input batch,
// [r0, r1) rows), never spanning two input batches.
std::vector<std::pair<size_t, std::pair<int64_t, int64_t>>> micro_batches(const std::vector<at::Tensor>& inputs,
                                                                          int batch) {
  std::vector<std::pair<size_t, std::pair<int64_t, int64_t>>> chunks;
  for (size_t j = 0; j < inputs.size(); ++j)
    for (int64_t r0 = 0; r0 < inputs[j].size(0); r0 += batch)
      chunks.push_back({j, {r0, std::min(inputs[j].size(0), r0 + int64_t(batch))}});
  return chunks;
}

// AdamW on the clipping logits against the full-precision block outputs, in float32 working copies
// of every block tensor (restored on return, also on error). Returns the mean MSE of the first and
// the last epoch.
std::pair<double, double> train_clipping(BlockWork& w, std::vector<LwcLayer>& layers,
                                         std::vector<torch::Tensor>& params, const OmniOptions& o) {
  std::vector<std::pair<at::Tensor*, at::Tensor>> saved;
  for (auto& kv : w.block.tensors()) {
    saved.push_back({kv.second, *kv.second});
    *kv.second = trainable_copy(*kv.second);
  }
  struct Restore {
    std::vector<std::pair<at::Tensor*, at::Tensor>>& s;
    ~Restore() {
      for (auto& p : s) *p.first = p.second;
    }
  } restore{saved};
  RopeTables rope;
  BlockContext ctx = w.ctx;
  ctx.observer = nullptr;
  if (ctx.rope) {
    rope = RopeTables{trainable_copy(ctx.rope->cos), trainable_copy(ctx.rope->sin)};
    ctx.rope = &rope;
  }
  ctx.mask = trainable_copy(ctx.mask);

  const auto chunks = micro_batches(w.inputs, o.batch);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(o.lr).weight_decay(0.0));
  const int64_t total = int64_t(o.epochs) * int64_t(chunks.size());
  int64_t step = 0;
  double first_loss = -1, final_loss = -1;
  for (int e = 0; e < o.epochs; ++e) {
    double epoch_loss = 0;
    for (const auto& c : chunks) {
      check_cancel(w.fb);
      const at::Tensor x = on_device(w.inputs[c.first], w.model.device());
      const at::Tensor y = on_device(w.fp_outputs[c.first], w.model.device());
      const int64_t r0 = c.second.first, r1 = c.second.second;
      opt.zero_grad();
      for (auto& L : layers) L.layer->weight = lwc_fake_quantize(L.w0, L.up, L.low, L.spec);
      at::Tensor out = w.block.forward(trainable_copy(x.slice(0, r0, r1)), ctx);
      at::Tensor loss = at::mse_loss(out.to(at::kFloat), trainable_copy(y.slice(0, r0, r1)));
      const double lv = loss.item<double>();
      if (!std::isfinite(lv))
        throw Error("omniquant: loss is not finite in block " + std::to_string(w.block.index()) + " (epoch " +
                    std::to_string(e + 1) + "); try a smaller lr");
      epoch_loss += lv;
      loss.backward();
      opt.step();
      report(w.fb, "omniquant", ++step, total);
    }
    final_loss = epoch_loss / double(chunks.size());
    if (e == 0) first_loss = final_loss;
  }
  return {first_loss, final_loss};
}

}  // namespace

void omniquant_quantize_block(BlockWork& w) {
  const OmniOptions o = omni_options(w.params);
  std::vector<LwcLayer> layers = lwc_layers(w);
  if (layers.empty()) return;

  auto t0 = std::chrono::steady_clock::now();
  const bool train = o.epochs > 0 && !w.inputs.empty() && w.fp_outputs.size() == w.inputs.size();
  double first_loss = -1, final_loss = -1;  // mean MSE of the first and the last epoch
  {
    c10::InferenceMode no_inference(false);
    torch::AutoGradMode grad_on(true);
    std::vector<torch::Tensor> params = init_clipping(layers, o.init);
    if (train) std::tie(first_loss, final_loss) = train_clipping(w, layers, params, o);
  }

  const double seconds = since(t0) / double(layers.size());
  char losses[96];
  std::snprintf(losses, sizeof losses, " (block mse %.4g -> %.4g)", first_loss, final_loss);
  const std::string note = train ? "omniquant lwc epochs=" + std::to_string(o.epochs) + losses
                                 : "omniquant lwc: no calibration batches, factors at init";
  torch::NoGradGuard no_grad;
  for (auto& L : layers) {
    check_cancel(w.fb);
    auto t1 = std::chrono::steady_clock::now();
    QuantizedWeight q = lwc_quantize(L.w0, L.up, L.low, L.spec);
    commit_quantized(w, *L.layer, q, final_loss, seconds + since(t1), note);
  }
}

}  // namespace ptq
