// OS+ (Outlier Suppression+, Wei et al., 2023) as a block transform, after LLMC
// (ModelTC/llmc llmc/compression/quantization/osplus.py search_scale_shift_subset, subset_transform):
//   Groups: the norm-fed ones only (LLMC's filter_subset: prev_op must be a LayerNorm/RMSNorm):
//   input_layernorm -> q,k,v and the MLP's norm -> gate,up (the router and experts for MoE), from
//   norm_scale_groups (quant/methods/smoothing/scale_fold.h).
//   Shift: LLMC computes the channel-wise shift z = (max + min) / 2 only when model.has_bias()
//   (LayerNorm models: OPT, BLOOM, Falcon); for RMSNorm models (llmc/models/llama.py has_bias()
//   returns False; every architecture this engine runs) shift = None and OS+ is the scaling alone.
//   A shift cannot be folded exactly here: x - z would have to come from the norm, and an RMSNorm
//   has no bias to subtract it (LLMC shift_ln_fcs subtracts it from ln.bias). So no shift, as LLMC.
//   Scaling: over the group's input x (every calibration token): cmx = max_t x, cmn = min_t x per
//   channel, amx = max(max x, 0), amn = min(min x, 0); thresholds st from max(-amn, amx) down to 1
//   in steps of (max(-amn, amx) - 1) / num, num = max(steps, int(amx / 0.5)) (LLMC: steps = 100);
//   s_j(st) = max(cmx_j / st if cmx_j > st else 1, cmn_j / -st if cmn_j < -st else 1).
//   Score (LLMC): loss = mean over tokens of ||module(Q_a(x / s); Q(W·s)) - module(x)||², the
//   module being the attention for q,k,v and the MLP for gate,up (the inspected module), the
//   group's weights fake-quantized with the run's weight spec and their inputs with the activation
//   spec (dynamic scales: search_act_quant.h); lowest loss wins (ties: the larger st, tried first).
//   The best s is folded: norm weight / s, layer columns · s.
// Differences from LLMC: the statistics and the loss cover every calibration batch (LLMC returns
// inside its loop over input_feats, so it uses the first batch; its OS+ config calibrates on one
// batch, n_samples 1, where both agree); without act_bits the candidates are scored with weight
// quantization alone (LLMC's OS+ configs are W-A), and the record says so.
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "quant/methods/smoothing/scale_fold.h"
#include "quant/methods/smoothing/search_act_quant.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

namespace {

// The input of one layer for every calibration batch, as [tokens, in] in the compute dtype.
struct InputCapture : LinearObserver {
  std::string name;
  std::vector<at::Tensor> batches;
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) override {
    if (l.name() == name) batches.push_back(in.clone());
  }
};

bool in_attention(const ScaleGroup& g) { return g.layers[0]->name().rfind("self_attn.", 0) == 0; }

// The inspected module on its captured inputs, LLMC's loss against its full-precision outputs.
struct OsPlusProbe {
  bool attention = true;
  std::vector<at::Tensor> x, fp;  // [B, T, hidden] per batch
  at::Tensor forward(const BlockWork& w, const at::Tensor& xi) const {
    DecoderBlock& b = as_decoder(w.block);
    return attention ? b.attention_branch(xi, w.ctx) : b.mlp_branch(xi, w.ctx);
  }
  // Sum over batches of Σ_t ||out_t - fp_t||², divided by the token count (LLMC: .sum(-1).mean()).
  double loss(const BlockWork& w) const {
    double sum = 0;
    int64_t tokens = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      check_cancel(w.fb);
      at::Tensor d = forward(w, x[i]).to(at::kFloat) - fp[i].to(at::kFloat);
      sum += d.pow(2).sum().item<double>();
      tokens += d.numel() / d.size(-1);
    }
    return sum / double(std::max<int64_t>(tokens, 1));
  }
};

OsPlusProbe make_probe(BlockWork& w, const ScaleGroup& g) {
  InputCapture cap;
  cap.name = g.x_from;
  w.run(&cap);
  if (cap.batches.size() != w.inputs.size())
    throw Error("OS+: block " + std::to_string(w.block.index()) + ", " + g.name + ": " + g.x_from +
                " did not see every calibration batch");
  OsPlusProbe p;
  p.attention = in_attention(g);
  for (size_t i = 0; i < cap.batches.size(); ++i) {
    const at::Tensor& h = w.inputs[i];  // only its shape is read
    p.x.push_back(cap.batches[i].reshape({h.size(0), h.size(1), -1}));
    p.fp.push_back(p.forward(w, p.x.back()));
  }
  return p;
}

at::Tensor clip_scales(const at::Tensor& cmx, const at::Tensor& cmn, double st) {
  at::Tensor one = at::ones_like(cmx);
  at::Tensor mx = at::where(cmx > st, cmx / st, one), mn = at::where(cmn < -st, cmn / -st, one);
  return at::max(mx, mn);
}

// Loss of one candidate: the group's quantized layers as Q(W·s) / s with Q_a(x / s) · s inputs.
double candidate_loss(BlockWork& w, const ScaleGroup& g, const OsPlusProbe& probe, const at::Tensor& s) {
  std::vector<std::pair<Linear*, at::Tensor>> orig;
  for (Linear* l : g.layers) {
    auto spec = w.spec_for(*l);
    if (!spec) continue;
    orig.push_back({l, l->weight});
    at::Tensor sd = s.to(l->weight.device()).view({1, -1});
    l->weight = (fake_quantize(l->weight.to(at::kFloat) * sd, *spec) / sd).to(l->weight.scalar_type());
  }
  double loss = 0;
  try {
    ScaledInputQuant act(w, g.layers, s);
    loss = probe.loss(w);
  } catch (...) {
    for (auto& [l, t] : orig) l->weight = t;
    throw;
  }
  for (auto& [l, t] : orig) l->weight = t;
  return loss;
}

struct Choice {
  at::Tensor scale;
  double threshold = 0;
  int tried = 0;
};

Choice search_group(BlockWork& w, const ScaleGroup& g, int min_steps) {
  const OsPlusProbe probe = make_probe(w, g);
  at::Tensor cmx, cmn;
  for (const auto& x : probe.x) {
    at::Tensor f = x.reshape({-1, x.size(-1)}).to(at::kFloat);
    at::Tensor mx = std::get<0>(f.max(0)), mn = std::get<0>(f.min(0));
    cmx = cmx.defined() ? at::max(cmx, mx) : mx;
    cmn = cmn.defined() ? at::min(cmn, mn) : mn;
  }
  const double amx = std::max(cmx.max().item<double>(), 0.0), amn = std::min(cmn.min().item<double>(), 0.0);
  const int num = std::isnan(amx) ? min_steps : std::max(min_steps, int(amx / 0.5));
  const double hi = std::max(-amn, amx), step = (hi - 1.0) / num;
  Choice best;
  best.threshold = hi;  // LLMC's initial best range: no channel exceeds it, s = 1
  double best_loss = std::numeric_limits<double>::infinity();
  for (double st = hi; st >= 1.0 && step > 0; st -= step) {
    check_cancel(w.fb);
    const double loss = candidate_loss(w, g, probe, clip_scales(cmx, cmn, st));
    ++best.tried;
    if (loss < best_loss) best_loss = loss, best.threshold = st;  // NaN never wins
  }
  best.scale = clip_scales(cmx, cmn, best.threshold);
  return best;
}

void add_note(LayerRecord& r, const std::string& note) { r.note = r.note.empty() ? note : r.note + "; " + note; }

void note_group(BlockWork& w, const std::vector<Linear*>& layers, const std::string& note) {
  for (Linear* l : layers) add_note(layer_record(w.records, w.block.index(), *l), note);
}

std::string fmt(const char* f, double v) {
  char b[48];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

void osplus_transform_block(BlockWork& w) {
  const int steps = w.params.value("steps", 100);
  if (steps < 1) throw Error("OS+: steps must be at least 1");
  if (w.inputs.empty()) throw Error("OS+ needs calibration inputs (its scales come from activation ranges)");
  DecoderBlock& b = as_decoder(w.block);
  auto t0 = std::chrono::steady_clock::now();
  for (auto& l : b.linears())
    if (l.spec.type == "o" || l.spec.type == "down")
      add_note(layer_record(w.records, b.index(), l), "osplus: input not scaled (no preceding norm, as LLMC)");
  for (const auto& g : norm_scale_groups(b, w.model.config())) {
    check_cancel(w.fb);
    if (!foldable(g)) {
      note_group(w, g.layers, "osplus: " + g.name + " not scaled (online input transform)");
      continue;
    }
    const Choice c = search_group(w, g, steps);
    apply_scale(g, c.scale);
    const int64_t scaled = (c.scale > 1.0).sum().item<int64_t>();
    const std::string with = quantizes_inputs(w, g.layers) ? "with " + w.plan.act.label() + " activations"
                                                           : "with weight quantization only (act_bits 0)";
    note_group(w, g.layers, "osplus " + g.name + " threshold=" + fmt("%.4g", c.threshold) + " scaled_channels=" +
                                std::to_string(scaled) + " (" + std::to_string(c.tried) + " thresholds searched " +
                                with + "; no shift: RMSNorm has no bias)");
  }
  b.mark_modified();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<LayerRecord*> touched;
  for (auto& l : b.linears())
    if (w.spec_for(l)) touched.push_back(&layer_record(w.records, b.index(), l));
  for (auto* r : touched) r->seconds += secs / double(touched.size());
}

}  // namespace ptq
