// The two classic quantizer stages: RTN (the baseline) and GPTQ with true-sequential order.
#include <chrono>
#include <map>

#include "core/errors.h"
#include "quant/block_stage.h"
#include "quant/gptq.h"

namespace ptq {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// GPTQ's true-sequential order inside a block: [k,v,q] -> [o] -> [up,gate] -> [down]
// (Mixtral: the experts' w3,w1 then w2). Without true_sequential, one group.
std::vector<std::vector<Linear*>> sequential_groups(DecoderBlock& b, bool true_sequential) {
  const char* order[4][3] = {{"k", "v", "q"}, {"o", nullptr, nullptr}, {"up", "gate", nullptr}, {"down", nullptr, nullptr}};
  std::vector<std::vector<Linear*>> groups(4);
  for (int g = 0; g < 4; ++g)
    for (int t = 0; t < 3 && order[g][t]; ++t)
      for (auto& l : b.linears())
        if (l.spec.type == order[g][t]) groups[size_t(g)].push_back(&l);
  if (!true_sequential) {
    std::vector<Linear*> all;
    for (auto& g : groups) all.insert(all.end(), g.begin(), g.end());
    return {all};
  }
  return groups;
}

struct HessianObserver : LinearObserver {
  std::map<const Linear*, HessianAccumulator> acc;
  std::map<const Linear*, int64_t> tokens;
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) override {
    auto it = acc.find(&l);
    if (it == acc.end()) return;
    it->second.add(in);
    tokens[&l] += in.size(0);
  }
};

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

void gptq_quantize_block(BlockWork& w) {
  GptqOptions o;
  o.percdamp = w.params.value("percdamp", 0.01);
  o.blocksize = w.params.value("blocksize", int64_t(128));
  o.act_order = w.params.value("act_order", false);
  o.static_groups = w.params.value("static_groups", false);
  const bool seq = w.params.value("true_sequential", true);
  for (auto& group : sequential_groups(w.block, seq)) {
    HessianObserver obs;
    for (Linear* l : group)
      if (w.spec_for(*l)) obs.acc.emplace(l, HessianAccumulator(l->spec.in_features, l->weight.device()));
    if (obs.acc.empty()) continue;
    auto t0 = std::chrono::steady_clock::now();
    w.run(&obs);  // inputs of this group, with the earlier groups already quantized
    const double capture = since(t0) / double(obs.acc.size());
    for (Linear* l : group) {
      auto it = obs.acc.find(l);
      if (it == obs.acc.end()) continue;
      check_cancel(w.fb);
      auto spec = *w.spec_for(*l);
      auto t1 = std::chrono::steady_clock::now();
      if (it->second.samples() == 0) {  // an expert that received no calibration tokens
        commit_quantized(w, *l, quantize_weight(l->weight.to(at::kFloat), spec), -1, since(t1),
                         "no calibration tokens: RTN fallback");
        continue;
      }
      GptqResult r = gptq_quantize(l->weight.to(at::kFloat), it->second.H(), spec, o);
      commit_quantized(w, *l, r.q, r.loss, capture + since(t1),
                       r.dead_columns ? "dead columns: " + std::to_string(r.dead_columns) : "");
      w.records[l->name()].calib_tokens = obs.tokens[l];
    }
  }
}

}  // namespace ptq
