#pragma once
// Pieces of the GPTQ block stage that other Hessian-based quantizers (OWQ) reuse: the
// true-sequential layer groups, the key of a layer's input (layers that share it share H) and
// the observer that accumulates one Hessian per input. quant/methods/gptq/rtn_gptq_stages.cpp.
#include <map>
#include <string>
#include <vector>

#include "core/model/decoder_block.h"
#include "quant/formats/quant_spec.h"
#include "quant/methods/gptq/gptq.h"

namespace ptq {

// [k,v,q] -> [o] -> [up,gate] -> [down] (one group without true_sequential).
std::vector<std::vector<Linear*>> sequential_groups(Block& b, bool true_sequential);
// "attn", "ffn" (per expert) or the layer's own name.
std::string input_key(const Linear& l);
bool same_spec(const QuantSpec& a, const QuantSpec& b);

// One Hessian per distinct input: accumulated from the first layer of each input key that runs.
struct HessianObserver : LinearObserver {
  std::map<std::string, HessianAccumulator> acc;  // by input key
  std::map<std::string, const Linear*> owner;
  std::map<std::string, int64_t> tokens;
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) override;
};

}  // namespace ptq
