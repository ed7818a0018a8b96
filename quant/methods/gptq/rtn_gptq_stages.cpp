// The two classic quantizer stages: RTN (the baseline) and GPTQ with true-sequential order.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "quant/pipeline/block_stage.h"
#include "quant/methods/gptq/gptq.h"
#include "quant/methods/gptq/gptq_stage_helpers.h"
#include "core/model/model.h"
#include "quant/pipeline/calib_staging.h"

namespace ptq {

// GPTQ's true-sequential order inside a block: [k,v,q] -> [o] -> [up,gate] -> [down]
// (Mixtral: the experts' w3,w1 then w2; Phi3's fused qkv_proj and gate_up_proj in the q and up
// steps; DeepSeek's latent attention: [kv_a,q_a] -> [q_b,kv_b] -> [o], the b projections reading
// the a projections' normed outputs; Mamba's mixer: in_proj -> x_proj -> dt_proj -> out_proj, each
// reading the one before). Without true_sequential, one group.
std::vector<std::vector<Linear*>> sequential_groups(Block& b, bool true_sequential) {
  static const std::vector<std::vector<std::string>> order = {
      {"k", "v", "q", "qkv", "kv_a", "q_a"}, {"q_b", "kv_b"}, {"o"},       {"up", "gate", "gate_up"},
      {"down"},                              {"in_proj"},     {"x_proj"},  {"dt_proj"},
      {"out_proj"}};
  std::vector<std::vector<Linear*>> groups;
  for (const auto& types : order) {
    std::vector<Linear*> g;
    for (const auto& t : types)
      for (auto& l : b.linears())
        if (l.spec.type == t) g.push_back(&l);
    if (!g.empty()) groups.push_back(g);
  }
  if (!true_sequential) {
    std::vector<Linear*> all;
    for (auto& g : groups) all.insert(all.end(), g.begin(), g.end());
    return {all};
  }
  return groups;
}

// Layers that multiply the same input (q,k,v; gate,up; an expert's w1,w3) share one Hessian.
std::string input_key(const Linear& l) {
  const std::string& t = l.spec.type;
  const bool attn = t == "q" || t == "k" || t == "v" || t == "q_a" || t == "kv_a";  // all read the normed x
  std::string key = attn ? "attn" : (t == "gate" || t == "up") ? "ffn" : l.name();
  return l.spec.expert >= 0 ? key + "." + std::to_string(l.spec.expert) : key;
}

bool same_spec(const QuantSpec& a, const QuantSpec& b) {
  return a.bits == b.bits && a.group_size == b.group_size && a.symmetric == b.symmetric && a.format == b.format &&
         a.clip_ratio == b.clip_ratio;
}

void HessianObserver::on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) {
  const std::string key = input_key(l);
  auto it = acc.find(key);
  if (it == acc.end()) return;
  auto o = owner.emplace(key, &l).first;
  if (o->second != &l) return;  // the same input, already accumulated
  it->second.add(in);
  tokens[key] += in.size(0);
  if (stop_when_complete && seen.insert(key).second && seen.size() == acc.size()) throw StopBlockForward();
}

namespace {

// The resume state a capture of `group` may use: only for groups wholly in the second half.
BlockResume* second_half_resume(const BlockWork& w, const std::vector<Linear*>& group) {
  if (!w.resume || !w.resume->enabled || !w.block.has_halves() || group.empty()) return nullptr;
  for (const Linear* l : group)
    if (w.block.in_first_half(*l)) return nullptr;
  const size_t n = w.resume->mid.size();
  return n == 0 || n == w.inputs.size() ? w.resume : nullptr;
}

}  // namespace

void capture_hessians(const BlockWork& w, HessianObserver& obs, const std::vector<Linear*>& group) {
  BlockContext c = w.ctx;
  c.observer = &obs;
  bool experts = false;
  for (auto& l : w.block.linears()) experts |= l.spec.expert >= 0 && obs.acc.count(input_key(l));
  obs.stop_when_complete = !experts;
  BlockResume* rs = second_half_resume(w, group);
  const bool fill = rs && rs->mid.empty();
  BlockContext settled = w.ctx;
  settled.observer = rs ? rs->settled : nullptr;
  StagedBatches xs(rs && !fill ? rs->mid : w.inputs, w.model.device());
  for (size_t b = 0; b < w.inputs.size(); ++b) {
    check_cancel(w.fb);
    obs.seen.clear();
    try {
      if (!rs) {
        (void)w.block.forward(xs.get(b), c);
        continue;
      }
      at::Tensor r = xs.get(b);
      if (fill) {
        r = w.block.first_half(r, settled);
        rs->mid.push_back(to_staging(r, rs->staging));
      }
      (void)w.block.second_half(r, c);
    } catch (const StopBlockForward&) {  // every H of the group has this batch's input
    }
  }
  obs.stop_when_complete = false;
}

void quantize_layers_with_hessians(BlockWork& w, bool true_sequential, const HessianLayerFn& fn) {
  for (auto& group : sequential_groups(w.block, true_sequential)) {
    HessianObserver obs;
    std::vector<std::pair<Linear*, QuantSpec>> todo;
    for (Linear* l : group) {
      auto spec = w.spec_for(*l);
      if (!spec) continue;
      obs.acc.emplace(input_key(*l), HessianAccumulator(l->spec.in_features, l->weight.device()));
      todo.push_back({l, *spec});
    }
    if (todo.empty()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    capture_hessians(w, obs, group);  // inputs of this group, with the earlier groups already quantized
    const double capture =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / double(todo.size());
    for (auto& [l, spec] : todo) {
      check_cancel(w.fb);
      const std::string key = input_key(*l);
      fn(*l, spec, obs.acc.at(key), obs.tokens[key], capture);
    }
  }
}

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The layer record's note on which column loop ran: "gptq_column_loop: cuda_graph" or
// "gptq_column_loop: eager", with the first line of the capture error when a capture failed.
std::string column_loop_note(const ColumnLoop& c) {
  std::string s = "gptq_column_loop: " + c.path();
  if (!c.graph_error.empty())
    s += " (CUDA graph capture failed: " + c.graph_error.substr(0, c.graph_error.find('\n')) + ")";
  return s;
}

// Quantizes layers that share H and spec in one GPTQ call on their stacked rows: GPTQ treats rows
// independently given H, so this equals one call per layer, with fewer passes over the columns.
void gptq_layers(BlockWork& w, const std::vector<Linear*>& ls, const QuantSpec& spec, const HessianAccumulator& h,
                 int64_t tokens, const GptqOptions& o, double capture) {
  auto t0 = std::chrono::steady_clock::now();
  if (h.samples() == 0) {  // an expert that received no calibration tokens
    for (Linear* l : ls)
      commit_quantized(w, *l, quantize_weight(l->weight.to(at::kFloat), spec), -1, since(t0),
                       "no calibration tokens: RTN fallback");
    return;
  }
  std::vector<at::Tensor> ws;
  for (Linear* l : ls) ws.push_back(l->weight.to(at::kFloat));
  GptqResult r = gptq_quantize(ls.size() == 1 ? ws[0] : at::cat(ws, 0), h.H(), spec, o);
  const double secs = (capture + since(t0)) / double(ls.size());
  if (std::getenv("PTQ_PROFILE"))
    std::fprintf(stderr, "gptq block %d %s x%zu: capture %.3f s, solve %.3f s\n", w.block.index(),
                 ls[0]->name().c_str(), ls.size(), capture, since(t0));
  int64_t row = 0;
  for (Linear* l : ls) {
    const int64_t n = l->spec.out_features;
    QuantizedWeight q = r.q;
    q.codes = r.q.codes.slice(0, row, row + n);
    q.scales = r.q.scales.slice(0, row, row + n);
    if (r.q.zeros.defined()) q.zeros = r.q.zeros.slice(0, row, row + n);
    const double loss = r.row_loss.slice(0, row, row + n).sum().item<double>();
    row += n;
    const std::string loop = column_loop_note(r.column_loop);
    commit_quantized(w, *l, q, loss, secs,
                     r.dead_columns ? "dead columns: " + std::to_string(r.dead_columns) + "; " + loop : loop);
    w.records[l->name()].calib_tokens = tokens;
  }
}

}  // namespace

void rtn_quantize_block(BlockWork& w) {
  for (auto& l : w.block.linears()) {
    auto spec = w.spec_for(l);
    if (!spec) continue;
    check_cancel(w.fb);
    auto t0 = std::chrono::steady_clock::now();
    QuantizedWeight q = quantize_weight(l.weight.to(at::kFloat), *spec);
    commit_quantized(w, l, q, -1, since(t0));
  }
}

namespace {

// Sets of layers quantized together: same input, same spec (overrides may differ).
using LayerSets = std::vector<std::pair<std::string, std::pair<QuantSpec, std::vector<Linear*>>>>;

// One Hessian accumulator per planned input of `group` in obs (one already there is kept), and the
// group's layer sets.
LayerSets group_sets(const BlockWork& w, const std::vector<Linear*>& group, bool tf32, HessianObserver& obs) {
  LayerSets sets;
  for (Linear* l : group) {
    auto spec = w.spec_for(*l);
    if (!spec) continue;
    const std::string key = input_key(*l);
    auto acc = obs.acc.try_emplace(key, l->spec.in_features, l->weight.device()).first;  // built only if absent
    acc->second.set_tf32(tf32);
    auto it = std::find_if(sets.begin(), sets.end(),
                           [&](const auto& s) { return s.first == key && same_spec(s.second.first, *spec); });
    if (it == sets.end())
      sets.push_back({key, {*spec, {l}}});
    else
      it->second.second.push_back(l);
  }
  return sets;
}

}  // namespace

std::unique_ptr<HessianObserver> gptq_first_group_observer(const BlockWork& w) {
  if (std::getenv("PTQ_NO_BLOCK_RESUME") || std::getenv("PTQ_NO_PRECAPTURE")) return nullptr;
  auto groups = sequential_groups(w.block, w.params.value("true_sequential", true));
  if (groups.empty()) return nullptr;
  auto obs = std::make_unique<HessianObserver>();
  if (group_sets(w, groups.front(), w.params.value("hessian_tf32", true), *obs).empty()) return nullptr;
  return obs;
}

void gptq_quantize_block(BlockWork& w) {
  GptqOptions o;
  o.percdamp = w.params.value("percdamp", 0.01);
  o.blocksize = w.params.value("blocksize", int64_t(128));
  o.act_order = w.params.value("act_order", false);
  o.static_groups = w.params.value("static_groups", false);
  const bool seq = w.params.value("true_sequential", true);
  const bool tf32 = w.params.value("hessian_tf32", true);
  bool first = true;
  for (auto& group : sequential_groups(w.block, seq)) {
    // The first group's Hessians may come filled from the block's full-precision forward (the same
    // inputs); group_sets keeps an accumulator already there.
    HessianObserver fresh;
    const bool precaptured = first && w.precaptured;
    HessianObserver& obs = precaptured ? *w.precaptured : fresh;
    first = false;
    const LayerSets sets = group_sets(w, group, tf32, obs);
    if (sets.empty()) continue;
    auto t0 = std::chrono::steady_clock::now();
    if (!precaptured) capture_hessians(w, obs, group);  // inputs of this group, with the earlier groups already quantized
    if (std::getenv("PTQ_PROFILE")) synchronize(w.block.linears()[0].weight.device());
    const double capture = since(t0) / double(sets.size());
    for (auto& [key, set] : sets) {
      check_cancel(w.fb);
      gptq_layers(w, set.second, set.first, obs.acc.at(key), obs.tokens[key], o, capture);
    }
    obs.acc.clear();  // the group's Hessians (the precaptured ones live in the pipeline's block state)
  }
}

}  // namespace ptq
