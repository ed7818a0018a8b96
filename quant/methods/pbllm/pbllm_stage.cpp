// The PB-LLM quantizer stage: GPTQ's true-sequential Hessians, then per layer pbllm_quantize
// (pbllm.h) with the run's group size as the binarization group.
#include <cstdio>
#include <string>

#include "quant/methods/pbllm/binary_common.h"
#include "quant/methods/pbllm/pbllm.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

namespace {

PbllmOptions pbllm_options(const nlohmann::json& p) {
  PbllmOptions o;
  o.salient_fraction = p.value("salient_fraction", o.salient_fraction);
  o.criterion = p.value("criterion", o.criterion);
  o.kept = p.value("kept", o.kept);
  o.blocksize = p.value("blocksize", o.blocksize);
  o.percdamp = p.value("percdamp", o.percdamp);
  return o;
}

std::string pbllm_note(const PbllmResult& r, const PbllmOptions& o) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "pbllm salient: %lld of %lld (%.3f%%) kept %s, %s mask",
                (long long)r.salient_count, (long long)r.weight.numel(),
                100.0 * double(r.salient_count) / double(r.weight.numel()), o.kept.c_str(),
                r.storage.mask_encoding.c_str());
  std::string note = buf;
  if (r.dead_columns) note += "; dead columns: " + std::to_string(r.dead_columns);
  return note;
}

}  // namespace

void pbllm_quantize_block(BlockWork& w) {
  const PbllmOptions base = pbllm_options(w.params);
  check_pbllm_options(base);  // before any work
  binary_quantize_block(w, [&](const at::Tensor& W, const at::Tensor& H, const QuantSpec& spec) {
    PbllmOptions o = base;
    o.group_size = spec.group_size;
    const PbllmResult r = pbllm_quantize(W, H, o);
    BinaryLayerResult out;
    out.q = r.q;
    out.loss = r.loss;
    out.note = pbllm_note(r, o);
    return out;
  });
}

}  // namespace ptq
