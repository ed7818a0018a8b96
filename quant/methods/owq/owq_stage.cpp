// The OWQ quantizer stage: GPTQ's true-sequential Hessians (quant/methods/gptq/gptq_stage_helpers.h),
// then per layer the weak columns kept in fp16 and the rest quantized by GPTQ (owq.h).
#include <chrono>
#include <string>

#include "core/model/model.h"
#include "core/model/model_layout.h"
#include "core/runtime/errors.h"
#include "quant/methods/gptq/gptq_stage_helpers.h"
#include "quant/methods/owq/owq.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

namespace {

OwqOptions owq_options(const nlohmann::json& p) {
  OwqOptions o;
  o.columns = p.value("columns", o.columns);
  o.fraction = p.value("fraction", o.fraction);
  o.frob_norm = p.value("frob_norm", o.frob_norm);
  o.mse = p.value("tuning", std::string("mse")) == "mse";
  o.gptq.percdamp = p.value("percdamp", o.gptq.percdamp);
  o.gptq.blocksize = p.value("blocksize", o.gptq.blocksize);
  o.gptq.act_order = p.value("act_order", o.gptq.act_order);
  return o;
}

// Before the first block is quantized: every planned layer of the model can keep its columns.
void check_kept_counts(const BlockWork& w, const OwqOptions& o) {
  const ModelConfig& cfg = w.model.config();
  for (int i = 0; i < cfg.num_layers; ++i)
    for (const auto& s : block_linears(cfg, i)) {
      const std::string name = linear_full_name(i, s.name);
      if (!w.plan.spec_for(name, s.type)) continue;
      try {
        owq_kept_count(s.in_features, o);
      } catch (const Error& e) {
        throw Error("layer " + name + ": " + e.what());
      }
    }
}

void owq_layer(BlockWork& w, Linear& l, const QuantSpec& spec, const HessianAccumulator& h, int64_t tokens,
               const OwqOptions& o, double capture) {
  const auto t0 = std::chrono::steady_clock::now();
  auto secs = [&] { return capture + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  if (h.samples() == 0) {  // an expert that received no calibration tokens
    commit_quantized(w, l, quantize_weight(l.weight.to(at::kFloat), spec), -1, secs(),
                     "no calibration tokens: RTN fallback");
    return;
  }
  OwqResult r;
  try {
    r = owq_quantize(l.weight.to(at::kFloat), h.H(), spec, o);
  } catch (const Error& e) {
    throw Error("layer " + linear_full_name(w.block.index(), l.name()) + ": " + e.what());
  }
  std::string note = "owq kept columns: " + std::to_string(r.kept.size());
  if (r.dead_columns) note += "; dead columns: " + std::to_string(r.dead_columns);
  commit_quantized(w, l, r.q, r.loss, secs(), note);
  w.records[l.name()].calib_tokens = tokens;
}

}  // namespace

void owq_quantize_block(BlockWork& w) {
  const OwqOptions o = owq_options(w.params);
  if (w.block.index() == 0) check_kept_counts(w, o);
  const bool seq = w.params.value("true_sequential", true);
  quantize_layers_with_hessians(w, seq, [&](Linear& l, const QuantSpec& spec, const HessianAccumulator& h, int64_t tokens,
                                            double capture) { owq_layer(w, l, spec, h, tokens, o, capture); });
}

}  // namespace ptq
