#pragma once
// Pieces of the GPTQ block stage that other Hessian-based quantizers (OWQ) reuse: the
// true-sequential layer groups, the key of a layer's input (layers that share it share H) and
// the observer that accumulates one Hessian per input. quant/methods/gptq/rtn_gptq_stages.cpp.
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/model/decoder_block.h"
#include "quant/formats/quant_spec.h"
#include "quant/methods/gptq/gptq.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

// [k,v,q] -> [o] -> [up,gate] -> [down] (one group without true_sequential).
std::vector<std::vector<Linear*>> sequential_groups(Block& b, bool true_sequential);
// "attn", "ffn" (per expert) or the layer's own name.
std::string input_key(const Linear& l);
bool same_spec(const QuantSpec& a, const QuantSpec& b);

// Thrown by HessianObserver to end a block's forward early (not a std::exception, so no handler
// for errors takes it for one).
struct StopBlockForward {};

// One Hessian per distinct input: accumulated from the first layer of each input key that runs.
struct HessianObserver : LinearObserver {
  std::map<std::string, HessianAccumulator> acc;  // by input key
  std::map<std::string, const Linear*> owner;
  std::map<std::string, int64_t> tokens;
  // capture_hessians: the keys fed in the current batch; once every key of acc is, the rest of
  // the block's forward is not needed and on_linear ends it (throws StopBlockForward).
  bool stop_when_complete = false;
  std::set<std::string> seen;
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) override;
};

// Runs the block on every calibration batch for `obs`, ending each batch's forward as soon as every
// Hessian of obs.acc has its input (the layers after the last one observed are not run: for the
// first true-sequential groups, most of the block). A group whose layers may see no tokens in a
// batch (MoE experts) runs the whole block. H and token counts are those of a full forward.
// `group` is the layer group being captured: when all of it lies in the block's second half and
// w.resume is enabled, the captures run from (or fill) w.resume's residual streams.
void capture_hessians(const BlockWork& w, HessianObserver& obs, const std::vector<Linear*>& group);

// The loop of the Hessian-based layer quantizers that quantize layer by layer (OWQ, PB-LLM, BiLLM,
// QuIP): for each group of sequential_groups, the Hessian of every planned layer's input captured
// with the earlier groups already quantized (capture_hessians), then `fn` on each planned layer
// with its spec, its input's Hessian and token count, and its share of the capture's seconds.
// GPTQ's first layer group's observer (its Hessian accumulators as gptq_quantize_block makes them) for
// the pipeline to fill on the block's full-precision forward, which reads the same inputs in the same
// order as that group's capture would (the caller makes sure no other stage changes the block before
// GPTQ runs): one pass over the calibration inputs fewer. Null when the group has no planned layer, or
// with PTQ_NO_BLOCK_RESUME or PTQ_NO_PRECAPTURE (every capture its own pass; the same numbers).
std::unique_ptr<HessianObserver> gptq_first_group_observer(const BlockWork& w);

using HessianLayerFn = std::function<void(Linear& l, const QuantSpec& spec, const HessianAccumulator& h,
                                          int64_t tokens, double capture_seconds)>;
void quantize_layers_with_hessians(BlockWork& w, bool true_sequential, const HessianLayerFn& fn);

}  // namespace ptq
