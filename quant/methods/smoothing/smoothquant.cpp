// SmoothQuant (Xiao et al., 2023) as a block transform, after mit-han-lab/smoothquant
// (smoothquant/calibration.py get_act_scales, smoothquant/smooth.py smooth_ln_fcs_llama_like) and
// LLMC (llmc/compression/quantization/smoothquant.py):
//   act_scales[j] = max over every calibration token of |x_j| at the group's input
//                   (calibration.py's stat_tensor: abs, max over tokens, max over batches);
//   weight_scales[j] = max over the group's layers of max_i |W_ij|, clamped at 1e-5;
//   s = (act_scales^α / weight_scales^(1-α)).clamp(min=1e-5);  norm.weight /= s;  W[:, j] *= s.
// Groups (quant/methods/smoothing/scale_fold.h): the norm-fed groups only, as both references
// (LLMC's filter_subset skips linear prev_ops): input_layernorm -> q,k,v; the MLP's norm -> gate,up
// (Mixtral: the router and every expert's w1,w3, as smooth.py; Qwen-MoE likewise with the shared
// expert; Gemma: pre_feedforward_layernorm, with its (1+w) offset folded as (1+w') = (1+w)/s).
// linear_groups=true adds AWQ's v_proj -> o_proj (same shapes only) and up -> down folds.
// Inputs of o_proj / down_proj are otherwise left unsmoothed, and their records say so.
// Differences from smooth.py: the scales are computed in float32 (smooth.py: the model dtype) and
// the statistics come block by block from the inputs of the already processed block (the
// pipeline's convention, as LLMC's blockwise run); smooth.py collects them on the whole fp model.
// α search (search=true): α = n/grid for n in [0, grid), AWQ's ratio grid (llm-awq auto_scale.py;
// neither SmoothQuant reference searches α, LLMC's AWQ searches this formula's ratio): per group,
// the group is folded with s(α), its quantized layers are fake-quantized with the run's weight spec,
// the block runs over the calibration batches and the α with the lowest block output error
// (mean ||out - fp||² / ||fp||², BlockWork::output_error) wins; the fold is then applied to the
// full-precision weights and the quantizer runs afterwards as usual.
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "quant/methods/smoothing/scale_fold.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

namespace {

// Per-input-channel max |x| (float32) of the observed layers over every token they saw.
struct AbsMaxObserver : LinearObserver {
  std::set<std::string> names;
  std::map<std::string, at::Tensor> absmax;
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) override {
    if (!names.count(l.name()) || in.size(0) == 0) return;
    at::Tensor m = std::get<0>(in.abs().max(0)).to(at::kFloat);
    auto it = absmax.find(l.name());
    if (it == absmax.end())
      absmax[l.name()] = m;
    else
      it->second = at::max(it->second, m);
  }
};

at::Tensor weight_absmax(const ScaleGroup& g) {
  at::Tensor m;
  for (const Linear* l : g.layers) {
    at::Tensor c = std::get<0>(l->weight.abs().max(0)).to(at::kFloat);
    m = m.defined() ? at::max(m, c) : c;
  }
  return m.clamp_min(1e-5);
}

at::Tensor smoothing_scales(const at::Tensor& act, const at::Tensor& w, double alpha) {
  return (act.to(w.device()).pow(alpha) / w.pow(1.0 - alpha)).clamp_min(1e-5);
}

void add_note(LayerRecord& r, const std::string& note) { r.note = r.note.empty() ? note : r.note + "; " + note; }

void note_group(BlockWork& w, const std::vector<Linear*>& layers, const std::string& note) {
  for (Linear* l : layers) add_note(layer_record(w.records, w.block.index(), *l), note);
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// Block output error with the group folded at s and its quantized layers fake-quantized; the
// group's tensors are restored before returning.
double trial_error(BlockWork& w, const ScaleGroup& g, const at::Tensor& s) {
  const GroupSnapshot orig = snapshot(g);
  double err = 0;
  try {
    apply_scale(g, s);
    for (Linear* l : g.layers)
      if (auto spec = w.spec_for(*l)) l->weight = fake_quantize(l->weight, *spec);
    err = w.output_error(w.run());
  } catch (...) {
    restore(g, orig);
    throw;
  }
  restore(g, orig);
  return err;
}

// The α of one group: fixed, or the grid point with the lowest block output error.
double choose_alpha(BlockWork& w, const ScaleGroup& g, const at::Tensor& act, const at::Tensor& wmax, double alpha,
                    bool search, int grid) {
  bool any_quantized = false;
  for (const Linear* l : g.layers) any_quantized |= w.spec_for(*l).has_value();
  if (!search || !any_quantized || w.inputs.empty()) return alpha;
  double best = -1, best_err = std::numeric_limits<double>::infinity();
  for (int n = 0; n < grid; ++n) {
    check_cancel(w.fb);
    const double a = double(n) / double(grid);
    const double err = trial_error(w, g, smoothing_scales(act, wmax, a));
    if (err < best_err) best_err = err, best = a;  // NaN never wins
  }
  if (best < 0)
    throw Error("SmoothQuant: block " + std::to_string(w.block.index()) + ", " + g.name +
                ": the block output error is not finite for any alpha");
  return best;
}

}  // namespace

void smoothquant_transform_block(BlockWork& w) {
  const double alpha = w.params.value("alpha", 0.5);
  const bool search = w.params.value("search", false);
  const int grid = w.params.value("grid", 20);
  const bool linear_groups = w.params.value("linear_groups", false);
  if (w.inputs.empty()) throw Error("SmoothQuant needs calibration inputs (its scales are activation maxima)");
  DecoderBlock& b = as_decoder(w.block);
  const ModelConfig& c = w.model.config();
  auto t0 = std::chrono::steady_clock::now();

  std::vector<SkippedGroup> skipped;
  std::vector<ScaleGroup> groups = norm_scale_groups(b, c);
  if (linear_groups) {
    auto lg = linear_scale_groups(b, c, skipped);
    groups.insert(groups.end(), lg.begin(), lg.end());
  } else {
    for (auto& l : b.linears())
      if (l.spec.type == "o" || l.spec.type == "down")
        add_note(layer_record(w.records, b.index(), l),
                 "smoothquant: input not smoothed (no preceding norm; linear_groups=true folds v->o / up->down)");
  }
  for (const auto& s : skipped) note_group(w, s.layers, "smoothquant: " + s.name + " not smoothed (" + s.reason + ")");

  AbsMaxObserver stats;  // every group's input, captured before any fold (the folds keep the function)
  for (const auto& g : groups) stats.names.insert(g.x_from);
  w.run(&stats);

  for (const auto& g : groups) {
    check_cancel(w.fb);
    if (!foldable(g)) {
      note_group(w, g.layers, "smoothquant: " + g.name + " not smoothed (online input transform)");
      continue;
    }
    auto it = stats.absmax.find(g.x_from);
    if (it == stats.absmax.end()) {
      note_group(w, g.layers, "smoothquant: " + g.name + " not smoothed (no calibration tokens reached it)");
      continue;
    }
    const at::Tensor wmax = weight_absmax(g);
    const double a = choose_alpha(w, g, it->second, wmax, alpha, search, grid);
    apply_scale(g, smoothing_scales(it->second, wmax, a));
    note_group(w, g.layers, "smoothquant " + g.name + " alpha=" + fmt(a) + (search ? " (searched)" : ""));
  }
  b.mark_modified();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<LayerRecord*> touched;
  for (auto& l : b.linears())
    if (w.spec_for(l)) touched.push_back(&layer_record(w.records, b.index(), l));
  for (auto* r : touched) r->seconds += secs / double(touched.size());
}

// For tests: folds random positive scales exp(U(-range, range)) into every SmoothQuant group of
// the block (norm groups, and the linear groups with `linear_groups`); returns the number folded.
int smoothquant_fold_random_scales(DecoderBlock& b, const ModelConfig& c, uint64_t seed, double range,
                                   bool linear_groups) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  std::vector<ScaleGroup> groups = norm_scale_groups(b, c);
  std::vector<SkippedGroup> skipped;
  if (linear_groups) {
    auto lg = linear_scale_groups(b, c, skipped);
    groups.insert(groups.end(), lg.begin(), lg.end());
  }
  int folded = 0;
  for (const auto& g : groups) {
    if (!foldable(g)) continue;
    const int64_t in = g.layers[0]->spec.in_features;
    apply_scale(g, (at::rand({in}, gen, at::kFloat) * (2 * range) - range).exp());
    ++folded;
  }
  b.mark_modified();
  return folded;
}

}  // namespace ptq
