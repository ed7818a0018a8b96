// AWQ (Lin et al., 2024) as a block transform, after mit-han-lab/llm-awq
// (awq/quantize/auto_scale.py, auto_clip.py).
//
// 1. Per-input-channel activation statistic x_mean = mean |x| over the calibration tokens.
// 2. Scale search per group (the fold machinery: quant/methods/smoothing/scale_fold.h), in AWQ's Llama order: input_layernorm -> q,k,v; v_proj -> o_proj
//    (only when v and o have the same shape, i.e. no GQA, as AWQ); post_attention_layernorm ->
//    gate,up (Mixtral: the router and every expert's w1,w3; the router is scaled so the routing is
//    unchanged but never quantized); up -> down (Mixtral: each expert's w3 -> w2 on its routed
//    tokens). For ratio n/grid: s = x_mean^ratio (AutoAWQ's duo_scaling divides by
//    w_mean^(1-ratio)), clamped at 1e-4, normalised by sqrt(max·min); each quantized layer of the
//    group becomes Q(W·s)/s. Norm-preceded groups are scored, as AWQ's module2inspect, by the output
//    error of the module they feed (attention for q,k,v; the MLP or the routed experts for the
//    post-attention norm) against its full-precision output on the same normed inputs;
//    fc -> fc groups by the scaled layer's own output error, as AWQ does, computed from the Gram
//    matrix XᵀX of its inputs gathered in the statistics run (for up -> down this equals the block
//    error up to the per-batch weighting: down_proj is the last op). Lowest error wins (ties: first).
//    The best s is folded: layer columns ·s, the preceding norm weight or linear rows (and bias) /s.
//    All searches see the inputs captured before any fold (AWQ searches first, applies after; the
//    folds do not change the inputs a later search uses).
// 3. Clip search (auto_clip_layer) on every quantized layer but q/k, with the inputs after the
//    folds: per output channel and group, max_val = absmax·(1 - i/clip_grid) for
//    i < int(max_shrink·clip_grid), error = mean over sampled tokens of the squared difference of
//    the group's partial dot product; the weight is clamped to [-best, best]. Sampled tokens are
//    AWQ's input_feat[0::n // n_sample_tokens] (so between n_sample_tokens and twice that many).
//
// With activation quantization (plan.act, --act-bits) the search sees quantized activations, as
// LLMC's Awq (ModelTC/llmc llmc/compression/quantization/awq.py search_scale_subset: unless w_only,
// x_tmp = fake_quantize_input(scaling_input(x, s)), aquantizer.fake_quant_act_dynamic, before the
// inspected module): each candidate is scored as Q_a(x / s) · Q(W·s)ᵀ on the group's own layers
// (dynamic scales of the run's granularity; a static act setting is calibrated after the
// transform), the other layers of the inspected module unquantized. LLMC scores v -> o and
// up -> down on that layer's own output with quantized inputs, so those groups use the attention /
// MLP probe too (o_proj and down_proj are the modules' last ops: the same error up to the
// per-batch weighting) instead of the Gram-matrix shortcut, which cannot see Q_a. The act
// quantizers of the run itself are installed after every block is quantized (the pipeline).
//
// Groups with a layer that has an online input transform (rotation's Hadamard before down_proj)
// are skipped: the fold is only exact when the layer multiplies the preceding op's output.
#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "core/model/model.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "quant/methods/smoothing/scale_fold.h"
#include "quant/methods/smoothing/search_act_quant.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/calib_staging.h"

namespace ptq {

namespace {

// DeepSeek-V3's latent attention (AutoAWQ's deepseek_v2 groups): input_layernorm -> q_a (or q),
// kv_a_proj_with_mqa; q_a_layernorm -> q_b_proj; kv_a_layernorm -> kv_b_proj (these two scored on
// the layer's own output error, like fc -> fc groups). No v -> o group: v is a slice of kv_b_proj's
// rows per head, interleaved with k_nope, so dividing "prev"'s rows would scale k_nope too.
void mla_groups(DecoderBlock& b, std::vector<ScaleGroup>& g) {
  Linear& kv_a = b.linear("self_attn.kv_a_proj_with_mqa");
  Linear* q_a = b.find("self_attn.q_a_proj");
  Linear& q_first = q_a ? *q_a : b.linear("self_attn.q_proj");
  g.push_back({"input_layernorm -> " + std::string(q_a ? "q_a" : "q") + ",kv_a", &b.input_norm, false, nullptr, {&q_first, &kv_a},
               kv_a.name()});
  if (q_a) {
    Linear& q_b = b.linear("self_attn.q_b_proj");
    g.push_back({"q_a_layernorm -> q_b", &b.q_a_norm, false, nullptr, {&q_b}, q_b.name(), true});
  }
  Linear& kv_b = b.linear("self_attn.kv_b_proj");
  g.push_back({"kv_a_layernorm -> kv_b", &b.kv_a_norm, false, nullptr, {&kv_b}, kv_b.name(), true});
}

// The routed MoE with its router (Mixtral's block_sparse_moe, DeepSeek's mlp.gate / experts /
// shared_experts): post_attention_layernorm -> router and every gate/up; then each up -> down.
bool moe_groups(DecoderBlock& b, std::vector<ScaleGroup>& g) {
  Linear* router = b.find("block_sparse_moe.gate");
  // mlp.gate with experts and no sigmoid-gated shared expert (Qwen2-MoE's shared_expert_gate reads the
  // normed stream too and is not scaled here; transform_support refuses AWQ on Qwen MoE).
  if (!router && b.find("mlp.experts.0.up_proj") && !b.find("mlp.shared_expert_gate")) router = b.find("mlp.gate");
  if (!router) return false;
  const bool mixtral = router->name() == "block_sparse_moe.gate";
  ScaleGroup in{mixtral ? "post_attention_layernorm -> router,w1,w3" : "post_attention_layernorm -> router,gate,up",
                &b.post_norm, false, nullptr, {router}, router->name()};
  std::vector<ScaleGroup> down;
  for (auto& l : b.linears()) {
    if (l.spec.expert < 0 && l.name().rfind("mlp.shared_experts.", 0) != 0) continue;
    if (l.spec.type == "gate" || l.spec.type == "up") in.layers.push_back(&l);
    if (l.spec.type == "down") {
      const std::string p = l.name().substr(0, l.name().rfind('.') + 1);
      const std::string up = p + (mixtral ? "w3" : "up_proj");
      down.push_back({up.substr(up.rfind('.') + 1) + " -> " + l.name(), nullptr, false, &b.linear(up), {&l}, l.name()});
    }
  }
  g.push_back(in);
  g.insert(g.end(), down.begin(), down.end());
  return true;
}

std::vector<ScaleGroup> scale_groups(DecoderBlock& b) {
  std::vector<ScaleGroup> g;
  if (b.find("self_attn.kv_a_proj_with_mqa")) {
    mla_groups(b, g);
  } else {
    Linear& q = b.linear("self_attn.q_proj");
    Linear& k = b.linear("self_attn.k_proj");
    Linear& v = b.linear("self_attn.v_proj");
    Linear& o = b.linear("self_attn.o_proj");
    g.push_back({"input_layernorm -> q,k,v", &b.input_norm, false, nullptr, {&q, &k, &v}, q.name()});
    // AWQ scales v -> o only when the shapes match (llm-awq PR #67): with GQA the rows of v do not
    // line up with the columns of o.
    if (v.spec.out_features == o.spec.out_features && v.spec.in_features == o.spec.in_features)
      g.push_back({"v_proj -> o_proj", nullptr, false, &v, {&o}, o.name()});
  }
  if (!moe_groups(b, g)) {
    Linear& gate = b.linear("mlp.gate_proj");
    Linear& up = b.linear("mlp.up_proj");
    Linear& down = b.linear("mlp.down_proj");
    g.push_back({"post_attention_layernorm -> gate,up", &b.post_norm, false, nullptr, {&gate, &up}, gate.name()});
    g.push_back({"up_proj -> down_proj", nullptr, false, &up, {&down}, down.name()});
  }
  return g;
}

// Sum of |x| per input channel and token counts for the layers in `names`; Gram matrices XᵀX
// (float32) for the layers in `gram_names`.
struct MeanAbsObserver : LinearObserver {
  std::set<std::string> names, gram_names;
  std::map<std::string, at::Tensor> sum;  // float64 [in]
  std::map<std::string, at::Tensor> gram;
  std::map<std::string, int64_t> count;
  bool gram_tf32 = false;  // CUDA only: XᵀX with TF32 tensor-core products, float32 accumulation
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) override {
    if (!names.count(l.name()) || in.size(0) == 0) return;
    at::Tensor x = in.to(at::kFloat);
    if (gram_names.count(l.name())) {
      ScopedTf32 tf32(gram_tf32);
      auto it = gram.find(l.name());
      if (it == gram.end())
        gram[l.name()] = x.t().mm(x);
      else
        it->second.addmm_(x.t(), x);  // no [in, in] temporary per batch
    }
    at::Tensor a = x.abs().sum(0).to(at::kDouble);
    auto it = sum.find(l.name());
    if (it == sum.end())
      sum[l.name()] = a;
    else
      it->second.add_(a);
    count[l.name()] += in.size(0);
  }
  at::Tensor mean(const std::string& name) const {  // float32, undefined when no tokens
    auto it = sum.find(name);
    if (it == sum.end()) return {};
    return (it->second / double(count.at(name))).to(at::kFloat);
  }
};

// Every step-th token (global index over all batches) of the observed layers, as float32.
struct SampleObserver : LinearObserver {
  struct Slot {
    int64_t step = 1, seen = 0;
    std::vector<at::Tensor> rows;
  };
  std::map<std::string, Slot> slots;
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) override {
    auto it = slots.find(l.name());
    if (it == slots.end()) return;
    Slot& s = it->second;
    const int64_t n = in.size(0), first = (s.step - s.seen % s.step) % s.step;
    if (first < n) {
      at::Tensor idx = at::arange(first, n, s.step, at::TensorOptions().dtype(at::kLong).device(in.device()));
      s.rows.push_back(in.index_select(0, idx).to(at::kFloat));
    }
    s.seen += n;
  }
};

// The module a norm-preceded group is scored on, as AWQ's module2inspect: the attention for
// input_layernorm -> q,k,v, the MLP (or the experts with their router) for the post-attention norm.
// Holds the module's normed inputs and full-precision outputs for every calibration batch, joined
// along the batch dimension into forwards of up to `probe_tokens` tokens (fewer, larger kernels: the
// search runs grid × batches forwards); each calibration batch of `per` sequences is still scored alone.
struct ModuleProbe {
  bool attention = true;
  std::vector<at::Tensor> x, fp;  // joined forwards
  std::vector<int64_t> per;         // sequences per calibration batch in each joined forward
  at::Tensor forward(const BlockWork& w, const at::Tensor& xi) const {
    return attention ? as_decoder(w.block).attention_branch(xi, w.ctx) : as_decoder(w.block).mlp_branch(xi, w.ctx);
  }
  // Mean over calibration batches of ||out - fp||² / ||fp||² with the block's current weights. Each
  // batch's ratio (float32) is summed in float64 on the device in batch order, read once at the end
  // instead of a device synchronisation per batch.
  double error(const BlockWork& w) const {
    at::Tensor sum;
    int64_t batches = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      check_cancel(w.fb);
      const int64_t m = x[i].size(0) / per[i];
      at::Tensor f = fp[i].to(at::kFloat).reshape({m, -1}), o = forward(w, x[i]).to(at::kFloat).reshape({m, -1});
      at::Tensor r = ((o - f).pow(2).sum(1) / f.pow(2).sum(1).clamp_min(1e-30)).to(at::kDouble);
      for (int64_t k = 0; k < m; ++k) sum = sum.defined() ? sum + r[k] : r[k];
      batches += m;
    }
    return batches == 0 ? -1 : sum.item<double>() / double(batches);
  }
};

ModuleProbe make_probe(const BlockWork& w, bool attention) {
  ModuleProbe p;
  p.attention = attention;
  const double eps = w.model.config().rms_norm_eps;
  const int64_t probe_tokens = w.params.value("probe_tokens", int64_t(8192));
  std::vector<at::Tensor> pending;  // normed inputs waiting to be joined
  int64_t tokens = 0;
  auto flush = [&] {
    if (pending.empty()) return;
    p.per.push_back(pending[0].size(0));
    p.x.push_back(pending.size() == 1 ? pending[0] : at::cat(pending, 0));
    pending.clear();
    tokens = 0;
    p.fp.push_back(p.forward(w, p.x.back()));
  };
  for (const auto& staged : w.inputs) {
    check_cancel(w.fb);
    const at::Tensor h = on_device(staged, w.model.device());
    // Joined only when every batch has the same shape (the last one may be shorter).
    if (!pending.empty() && (h.sizes() != pending[0].sizes() || tokens + h.size(0) * h.size(1) > probe_tokens)) flush();
    at::Tensor x1 = rms_norm(h, as_decoder(w.block).input_norm, eps);
    if (attention) {
      pending.push_back(x1);
    } else {
      at::Tensor r = h + as_decoder(w.block).attention_branch(x1, w.ctx);
      pending.push_back(rms_norm(r, as_decoder(w.block).post_norm, eps));
    }
    tokens += h.size(0) * h.size(1);
  }
  flush();
  return p;
}

// Whether the group's layers belong to the attention (scored on attention_branch) or the MLP.
bool in_attention(DecoderBlock& b, const ScaleGroup& g) {
  if (g.norm == &b.input_norm) return true;
  if (g.norm == &b.post_norm) return false;
  return g.layers[0]->name().rfind("self_attn.", 0) == 0;
}

// AutoAWQ's w_mean: |W| / absmax per quantization group, averaged over the output rows.
at::Tensor weight_mean(const std::vector<Linear*>& layers, int64_t group) {
  std::vector<at::Tensor> ws;
  for (Linear* l : layers) ws.push_back(l->weight.to(at::kFloat));
  at::Tensor w = at::cat(ws, 0);
  const int64_t in = w.size(1);
  at::Tensor g = w.reshape({-1, group}).abs();
  g = g / (g.amax({1}, true) + 1e-6);
  return g.reshape({-1, in}).mean(0);
}

at::Tensor ratio_scales(const at::Tensor& x_mean, const at::Tensor& w_mean, double ratio) {
  at::Tensor s = w_mean.defined() ? (x_mean.pow(ratio) / (w_mean.pow(1.0 - ratio) + 1e-4)).clamp_min(1e-4)
                                  : x_mean.pow(ratio).clamp_min(1e-4);
  return s / (s.max() * s.min()).sqrt();
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

LayerRecord& record(BlockWork& w, const Linear& l) { return layer_record(w.records, w.block.index(), l); }

void add_note(LayerRecord& r, const std::string& note) { r.note = r.note.empty() ? note : r.note + "; " + note; }

// Searches the best ratio of one group; returns it (or -1 when nothing in the group is quantized)
// and leaves the folded weights in place. With `gram` (XᵀX of the layer's inputs; fc -> fc groups)
// the error is the layer's own output error tr(D·G·Dᵀ), D = W - Q(W·s)/s, as AWQ scores these
// groups; otherwise the output error of the module the group feeds (ModuleProbe).
double search_group(BlockWork& w, const ScaleGroup& g, const at::Tensor& x_mean, const at::Tensor& gram, int grid,
                    bool duo, const ModuleProbe* probe) {
  std::vector<std::pair<Linear*, QuantSpec>> q;
  for (Linear* l : g.layers)
    if (auto s = w.spec_for(*l)) q.push_back({l, *s});
  if (q.empty()) return -1;
  at::Tensor w_mean;
  if (duo) {
    std::vector<Linear*> ls;
    for (auto& p : q) ls.push_back(p.first);
    w_mean = weight_mean(ls, q[0].second.effective_group(q[0].first->spec.in_features)).to(x_mean.device());
  }
  double best_err = std::numeric_limits<double>::infinity(), best_ratio = -1;
  at::Tensor best_s;
  for (int n = 0; n < grid; ++n) {
    check_cancel(w.fb);
    const double ratio = double(n) / double(grid);
    at::Tensor s = ratio_scales(x_mean, w_mean, ratio);
    if (gram.defined() && !probe) {
      double err = 0;
      ScopedTf32 tf32(w.params.value("search_tf32", true));  // CUDA only: the [out, in] x [in, in] product
      for (auto& [l, spec] : q) {
        at::Tensor W = l->weight.to(at::kFloat), sd = s.to(W.device()).view({1, -1});
        at::Tensor D = W - fake_quantize(W * sd, spec) / sd;
        err += (D.mm(gram.to(W.device())) * D).sum().item<double>();
      }
      if (err < best_err) best_err = err, best_ratio = ratio, best_s = s;
      continue;
    }
    std::vector<at::Tensor> orig;
    for (auto& [l, spec] : q) {
      orig.push_back(l->weight);
      at::Tensor sd = s.to(l->weight.device()).view({1, -1});
      l->weight = (fake_quantize(l->weight.to(at::kFloat) * sd, spec) / sd).to(l->weight.scalar_type());
    }
    double err = 0;
    try {
      ScaledInputQuant act(w, g.layers, s);
      err = probe->error(w);
    } catch (...) {
      for (size_t i = 0; i < q.size(); ++i) q[i].first->weight = orig[i];
      throw;
    }
    for (size_t i = 0; i < q.size(); ++i) q[i].first->weight = orig[i];
    if (err < best_err) {  // NaN never wins
      best_err = err;
      best_ratio = ratio;
      best_s = s;
    }
  }
  if (best_ratio < 0)
    throw Error("AWQ: block " + std::to_string(w.block.index()) + ", " + g.name +
                ": the output error is not finite for any scale");
  apply_scale(g, best_s);
  const std::string with_act = quantizes_inputs(w, g.layers) ? " (searched with " + w.plan.act.label() + " activations)" : "";
  for (auto& p : q) add_note(record(w, *p.first), "awq alpha=" + fmt("%.4g", best_ratio) + with_act);
  return best_ratio;
}

// auto_clip_layer: best max_val [out, n_groups] for W (float32 [out, in]) on tokens X [n, in].
at::Tensor clip_search(const at::Tensor& W, const at::Tensor& X, const QuantSpec& spec, int clip_grid,
                       double max_shrink, const Feedback* fb) {
  const int64_t out = W.size(0), in = W.size(1), n = X.size(0);
  const int64_t gs = spec.effective_group(in), ng = in / gs;
  at::Tensor xg = X.reshape({n, ng, gs}).permute({1, 0, 2}).contiguous();  // [ng, n, gs]
  const int64_t budget = int64_t(1) << 23;  // elements of one [ng, n, batch] product
  const int64_t batch = std::max<int64_t>(1, std::min<int64_t>(out, budget / std::max<int64_t>(1, ng * n)));
  const int steps = int(max_shrink * clip_grid);  // Python's int(max_shrink * n_grid)
  std::vector<at::Tensor> best_all;
  for (int64_t b0 = 0; b0 < out; b0 += batch) {
    check_cancel(fb);
    const int64_t ob = std::min(batch, out - b0);
    at::Tensor wb = W.slice(0, b0, b0 + ob).reshape({ob, ng, gs});
    at::Tensor org_max = wb.abs().amax({2}, true);  // [ob, ng, 1]
    at::Tensor org_out = at::bmm(xg, wb.permute({1, 2, 0}));  // [ng, n, ob]
    at::Tensor best = org_max.clone();
    at::Tensor min_err = at::full({ob, ng, 1}, std::numeric_limits<float>::infinity(), org_max.options());
    for (int i = 0; i < steps; ++i) {
      at::Tensor max_val = org_max * (1.0 - double(i) / double(clip_grid));
      at::Tensor cur = at::min(at::max(wb, -max_val), max_val);
      at::Tensor qw = fake_quantize(cur.reshape({ob, in}), spec).reshape({ob, ng, gs});
      at::Tensor cur_out = at::bmm(xg, qw.permute({1, 2, 0}));
      at::Tensor err = (cur_out - org_out).pow(2).mean({1}).t().reshape({ob, ng, 1});
      at::Tensor better = err < min_err;
      min_err = at::where(better, err, min_err);
      best = at::where(better, max_val, best);
    }
    best_all.push_back(best.reshape({ob, ng}));
  }
  return at::cat(best_all, 0);
}

// AWQ's clipping search (auto_clip_block) over the block's planned layers but q and k, on every layer's
// sampled inputs with the scales folded, and the clipped weights left in place.
void clip_block(BlockWork& w, DecoderBlock& b, const MeanAbsObserver& stats, int clip_grid, double max_shrink,
                int64_t n_sample) {
  SampleObserver sampler;
  std::vector<std::pair<Linear*, QuantSpec>> todo;
  for (auto& l : b.linears()) {
    // AWQ: the q·k product is hard to clip for (AutoAWQ skips names with "q_" / "k_": q_a_proj, q_b_proj too)
    if (l.spec.type == "q" || l.spec.type == "k" || l.spec.type == "q_a" || l.spec.type == "q_b") continue;
    auto spec = w.spec_for(l);
    auto c = stats.count.find(l.name());
    if (!spec || c == stats.count.end() || c->second == 0) continue;
    sampler.slots[l.name()].step = std::max<int64_t>(1, c->second / n_sample);
    todo.push_back({&l, *spec});
  }
  if (!todo.empty()) w.run(&sampler);
  for (auto& [l, spec] : todo) {
    check_cancel(w.fb);
    auto& rows = sampler.slots[l->name()].rows;
    if (rows.empty()) continue;
    at::Tensor X = at::cat(rows, 0).to(l->weight.device());
    rows.clear();
    at::Tensor W = l->weight.to(at::kFloat);
    at::Tensor best;  // [out, ng]
    {
      ScopedTf32 tf32(w.params.value("search_tf32", true));  // CUDA only: the clipped outputs' products
      best = clip_search(W, X, spec, clip_grid, max_shrink, w.fb);
    }
    const int64_t ng = best.size(1), out = W.size(0);
    at::Tensor mv = best.unsqueeze(-1);
    at::Tensor Wc = W.reshape({out, ng, -1});
    l->weight = at::min(at::max(Wc, -mv), mv).reshape(W.sizes()).to(l->weight.scalar_type());
    at::Tensor ratio = best / W.reshape({out, ng, -1}).abs().amax({2}).clamp_min(1e-30);
    add_note(record(w, *l), "awq clip mean=" + fmt("%.3f", ratio.mean().item<double>()));
  }
  b.mark_modified();
}

}  // namespace

// For tests: folds random positive scales exp(U(-range, range)) into every foldable AWQ group of
// the block (the model function must not change). Returns the number of groups folded.
int awq_fold_random_scales(DecoderBlock& b, uint64_t seed, double range) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  int folded = 0;
  for (const auto& g : scale_groups(b)) {
    if (!foldable(g)) continue;
    const int64_t in = g.layers[0]->spec.in_features;
    at::Tensor s = (at::rand({in}, gen, at::kFloat) * (2 * range) - range).exp();
    apply_scale(g, s);
    ++folded;
  }
  b.mark_modified();
  return folded;
}

void awq_transform_block(BlockWork& w) {
  const int grid = w.params.value("grid", 20);
  const bool clip = w.params.value("clip", true);
  const int clip_grid = w.params.value("clip_grid", 20);
  const double max_shrink = w.params.value("max_shrink", 0.5);
  const int64_t n_sample = std::max<int64_t>(1, w.params.value("n_sample_tokens", int64_t(512)));
  const bool duo = w.params.value("duo_scaling", false);
  if (grid < 1) throw Error("AWQ: grid must be at least 1");
  if (w.inputs.empty()) throw Error("AWQ needs calibration inputs");
  DecoderBlock& b = as_decoder(w.block);
  auto t0 = std::chrono::steady_clock::now();

  // 1. Activation statistics of every group's input.
  std::vector<ScaleGroup> groups = scale_groups(b);
  MeanAbsObserver stats;
  stats.gram_tf32 = w.params.value("search_tf32", true);
  for (const auto& g : groups) {
    stats.names.insert(g.x_from);
    // fc -> fc groups: the folds before them leave their inputs unchanged, so capture now.
    if ((g.prev || g.latent) && !quantizes_inputs(w, g.layers)) stats.gram_names.insert(g.x_from);
  }
  if (clip)
    for (auto& l : b.linears()) stats.names.insert(l.name());  // token counts for the clip sampling
  w.run(&stats);

  // 2. Scale search and fold, group by group.
  for (const auto& g : groups) {
    check_cancel(w.fb);
    at::Tensor x_mean = stats.mean(g.x_from);
    if (!x_mean.defined()) continue;  // an expert that received no calibration tokens
    if (!foldable(g)) {
      for (Linear* l : g.layers)
        if (w.spec_for(*l)) add_note(record(w, *l), "awq: not scaled (online input transform)");
      continue;
    }
    auto gi = stats.gram.find(g.x_from);  // absent for norm groups and under --act-bits (Q_a needs the probe)
    const bool probed = gi == stats.gram.end();
    ModuleProbe probe = probed ? make_probe(w, in_attention(b, g)) : ModuleProbe{};
    search_group(w, g, x_mean, probed ? at::Tensor() : gi->second, grid, duo, probed ? &probe : nullptr);
    if (!probed) stats.gram.erase(gi);
  }
  b.mark_modified();

  // 3. Clipping, on the inputs the folded layers now see.
  if (clip && max_shrink > 0) clip_block(w, b, stats, clip_grid, max_shrink, n_sample);
  // The transform's time, shared out over the quantized layers it touched.
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<LayerRecord*> touched;
  for (auto& l : b.linears())
    if (w.spec_for(l)) touched.push_back(&record(w, l));
  for (auto* r : touched) r->seconds += secs / double(touched.size());
}

}  // namespace ptq
