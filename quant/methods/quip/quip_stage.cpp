// The QuIP stage: GPTQ's true-sequential Hessians (quant/methods/gptq/gptq_stage_helpers.h), then
// per layer incoherence processing around the rounding (quip.h): LDLQ for `quip`, GPTQ for
// `quip+gptq`, round to nearest for `quip+rtn`.
#include <chrono>
#include <cstdio>
#include <string>

#include "core/model/model_layout.h"
#include "core/runtime/errors.h"
#include "quant/methods/gptq/gptq_stage_helpers.h"
#include "quant/methods/quip/incoherence.h"
#include "quant/methods/quip/quip.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

namespace {

// The quip stage's parameters; with rounding gptq, GPTQ's own damping, block size and order.
QuipOptions quip_options(const nlohmann::json& qp, const nlohmann::json& rounding_params, const std::string& rounding) {
  QuipOptions o;
  o.incoherence = qp.value("incoherence", o.incoherence);
  o.seed = uint64_t(qp.value("seed", int64_t(0)));
  o.rescale = qp.value("rescale", o.rescale);
  o.greedy_passes = qp.value("greedy_passes", o.greedy_passes);
  o.grid = qp.value("grid", o.grid);
  o.rounding = rounding == "gptq" ? "gptq" : rounding == "rtn" ? "nearest" : "ldlq";
  const nlohmann::json& g = rounding == "gptq" ? rounding_params : qp;
  o.gptq.percdamp = g.value("percdamp", o.gptq.percdamp);
  o.gptq.blocksize = g.value("blocksize", o.gptq.blocksize);
  if (rounding == "gptq") {
    o.gptq.act_order = g.value("act_order", false);
    o.gptq.static_groups = g.value("static_groups", false);
  }
  return o;
}

void quip_layer(BlockWork& w, Linear& l, const QuantSpec& spec, const HessianAccumulator& h, int64_t tokens,
                QuipOptions o, double capture) {
  const auto t0 = std::chrono::steady_clock::now();
  auto secs = [&] { return capture + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  const std::string name = linear_full_name(w.block.index(), l.name());
  if (h.samples() == 0) {  // an expert that received no calibration tokens
    commit_quantized(w, l, quantize_weight(l.weight.to(at::kFloat), spec), -1, secs(),
                     "no calibration tokens: RTN fallback");
    return;
  }
  o.layer = name;
  o.seed = incoherence_layer_seed(o.seed, name);
  const QuipResult r = quip_quantize(l.weight.to(at::kFloat), h.H(), spec, o);
  char note[160];
  std::snprintf(note, sizeof note, "quip %s/%s: mu %.3f -> %.3f; greedy passes %lld%s", o.incoherence.c_str(),
                o.rounding.c_str(), r.mu_before, r.mu_after, (long long)r.greedy_passes_run,
                r.dead_columns ? "; dead columns" : "");
  commit_quantized(w, l, r.q, r.proxy_loss, secs(), note);
  LayerRecord& rec = w.records[l.name()];
  rec.calib_tokens = tokens;
  rec.incoherence_before = r.mu_before;
  rec.incoherence_after = r.mu_after;
}

}  // namespace

void quip_quantize_block(BlockWork& w, const nlohmann::json& quip_params, const std::string& rounding) {
  const QuipOptions o = quip_options(quip_params, w.params, rounding);
  check_incoherence_kind(o.incoherence);
  const bool seq = (rounding == "gptq" ? w.params : quip_params).value("true_sequential", true);
  quantize_layers_with_hessians(w, seq, [&](Linear& l, const QuantSpec& spec, const HessianAccumulator& h, int64_t tokens,
                                            double capture) { quip_layer(w, l, spec, h, tokens, o, capture); });
}

}  // namespace ptq
