#pragma once
// Static activation scales, calibrated once on the calibration set (plan.act.calibration):
//   absmax        the largest |x| seen over all calibration tokens (per tensor or per group of
//                 channels), scale = amax / max_code (SmoothQuant's static per-tensor scales come
//                 from the same absmax over the calibration set);
//   percentile:P  the P-th percentile of |x|, taken per calibration batch and averaged over the
//                 batches (an exact percentile over all tokens would need them all in memory);
//   mse           the clip c = r·amax, r in {1, 0.96, ..., 0.2} (21 candidates), minimising the
//                 squared quantization error summed over all calibration tokens (two passes:
//                 amax first, then the errors of every candidate).
// The pipeline calls it per block after the weights are quantized, on the block's calibration
// inputs (the outputs of the quantized previous blocks, activations in full precision), so the
// observed inputs are the ones the quantizer will see (after any online Hadamard).
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "core/model/decoder_block.h"
#include "quant/pipeline/quant_plan.h"

namespace ptq {

// Scales (float32, CPU) by full layer name for every layer of `block` whose input is quantized:
// [1] (tensor granularity) or [width / group] (group granularity).
std::map<std::string, at::Tensor> calibrate_static_act_scales(const Block& block, const BlockContext& ctx,
                                                              const std::vector<at::Tensor>& inputs,
                                                              const QuantPlan& plan);

// The reduction units of x [tokens, width]: [1, tokens·width] (tensor) or [G, tokens·group]
// (group), as float32 magnitudes. Exposed for the tests.
at::Tensor act_units(const at::Tensor& x, const ActQuantSpec& s);

}  // namespace ptq
