// The BiLLM quantizer stage: GPTQ's true-sequential Hessians, then per layer billm_quantize
// (billm.h). The run's bits and group size do not apply (the binarization group is the block).
#include <cstdio>
#include <numeric>
#include <string>

#include "quant/methods/billm/billm.h"
#include "quant/methods/pbllm/binary_common.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

namespace {

BillmOptions billm_options(const nlohmann::json& p) {
  BillmOptions o;
  o.criterion = p.value("criterion", o.criterion);
  o.blocksize = p.value("blocksize", o.blocksize);
  o.search_columns = p.value("search_columns", o.search_columns);
  o.percdamp = p.value("percdamp", o.percdamp);
  return o;
}

std::string billm_note(const BillmResult& r) {
  const int64_t total = std::accumulate(r.salient_columns.begin(), r.salient_columns.end(), int64_t(0));
  char buf[160];
  std::snprintf(buf, sizeof buf, "billm salient columns: %lld in %zu blocks (%.3f%% of the columns)", (long long)total,
                r.salient_columns.size(), 100.0 * double(total) / double(r.weight.size(1)));
  std::string note = buf;
  if (r.dead_columns) note += "; dead columns: " + std::to_string(r.dead_columns);
  return note;
}

}  // namespace

void billm_quantize_block(BlockWork& w) {
  const BillmOptions o = billm_options(w.params);
  check_billm_options(o);  // before any work
  binary_quantize_block(w, [&](const at::Tensor& W, const at::Tensor& H, const QuantSpec&) {
    const BillmResult r = billm_quantize(W, H, o);
    BinaryLayerResult out;
    out.q = r.q;
    out.loss = r.loss;
    out.note = billm_note(r);
    return out;
  });
}

}  // namespace ptq
