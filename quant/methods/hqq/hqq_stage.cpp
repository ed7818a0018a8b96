// The HQQ quantizer stage: every planned layer of the block through hqq_quantize, no calibration.
#include <chrono>
#include <string>

#include "core/runtime/errors.h"
#include "quant/methods/hqq/hqq.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

namespace {

HqqOptions hqq_options(const nlohmann::json& p, int bits) {
  HqqOptions o;
  o.iters = p.value("iters", o.iters);
  o.lp_norm = p.value("lp_norm", o.lp_norm);
  o.beta = p.value("beta", o.beta);
  o.kappa = p.value("kappa", o.kappa);
  o.optimize = p.value("optimize", o.optimize);
  o.axis = int(p.value("axis", int64_t(o.axis)));
  const std::string rz = p.value("round_zero", std::string("auto"));
  o.round_zero = rz == "auto" ? bits == 4 : rz == "always";  // BaseQuantizeConfig: round_zero for 4 bits
  return o;
}

}  // namespace

void hqq_quantize_block(BlockWork& w) {
  for (auto& l : w.block.linears()) {
    auto spec = w.spec_for(l);
    if (!spec) continue;
    check_cancel(w.fb);
    const auto t0 = std::chrono::steady_clock::now();
    HqqResult r;
    try {
      r = hqq_quantize(l.weight.to(at::kFloat), *spec, hqq_options(w.params, spec->bits));
    } catch (const Error& e) {
      throw Error("layer " + linear_full_name(w.block.index(), l.name()) + ": " + e.what());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    commit_quantized(w, l, r.q, r.error, secs, "hqq iterations: " + std::to_string(r.iterations));
  }
}

}  // namespace ptq
