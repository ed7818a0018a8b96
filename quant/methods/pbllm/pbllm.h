#pragma once
// PB-LLM, partially binarized LLMs (Shang et al., 2024), following hahnyuan/PB-LLM
// gptq_pb/gptq.py LowHighGPT.fasterquant with low_quant_method "xnor" (the paper's) and
// gptq_pb/low_quant.py, gptq_pb/high_quant.py:
//   the kept ("high") quantizer: HighQuantizer(high_bit 8, perchannel, asymmetric, no mse)
//     calibrated once on the original W (per row min/max with 0 in range, scale = (max-min)/255,
//     zero = round(-min/scale)) — or, with kept = fp16, the weight rounded to fp16;
//   dead columns, damping and Hinv as gptq.py; then per group of `group_size` columns (the
//     run's group; -1 = the whole row, the reference's default) the binarized mask: saliency |W|
//     (magnitude) or W²/diag(Hinv)² (hessian, Hinv the upper Cholesky factor), threshold =
//     sorted(saliency)[int(numel·(1 - salient_fraction))], binarized where saliency <= threshold;
//     the group's binarizer calibrated on W·mask: μ = mean over the group's columns of W·mask,
//     α = mean |W·mask - μ| (LowQuantizer "xnor": the zeros of the salient entries included);
//   GPTQ's column loop in blocks of `blocksize`: each column quantized by the mask (binarized:
//     sign(w - μ)·α + μ, kept: the high quantizer), its error (w - q)/d spread over the later
//     columns of the block and, per block, over the rest (Err1 · Hinv[block, rest]).
// The reference takes a block's group from its first column (col_st // groupsize, asserting
// groupsize % blocksize == 0); here each column uses its own group, the same wherever the
// reference runs and defined for every group size.
//
// Stored form, counted exactly (QuantizedWeight::packed_bytes): one sign bit per binarized
// weight; the salient mask as a bitmap (one bit per weight) or as indices (per salient weight
// its column, 16 bits when in <= 65536 else 32, plus an int32 count per row), whichever is
// smaller (the record's note says which); kept weights at 8 bits with an fp16 scale and an 8-bit
// zero per row, or at 16 bits; fp16 μ and α per row and group.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "quant/formats/quantizer.h"

namespace ptq {

struct PbllmOptions {
  double salient_fraction = 0.1;         // kept at high precision (1 - the reference's low_frac), in (0, 1)
  std::string criterion = "magnitude";   // magnitude | hessian (the reference's salient_metric)
  std::string kept = "int8";             // int8 | fp16
  int64_t blocksize = 128;
  int64_t group_size = -1;               // binarization group; -1: the whole row
  double percdamp = 0.01;
};

// Throws ptq::Error naming the option: fraction outside (0, 1), an unknown criterion or kept
// precision, blocksize < 1, a group size that is not -1 or positive.
void check_pbllm_options(const PbllmOptions& o);

struct PbllmStorage {
  int64_t bytes = 0;
  std::string mask_encoding;  // "bitmap" | "indices"
};
// The packed bytes of an [out, in] layer with `salient` kept weights and `groups` binarization
// groups per row.
PbllmStorage pbllm_storage(int64_t out, int64_t in, int64_t salient, int64_t groups, const std::string& kept);

struct PbllmResult {
  at::Tensor weight;       // float32 [out, in], dequantized
  at::Tensor salient;      // bool [out, in]: kept at high precision
  int64_t salient_count = 0;
  PbllmStorage storage;
  double loss = 0.0;       // Σ (w - q)²/d²/2, as the reference's "error"
  int64_t dead_columns = 0;
  QuantizedWeight q;       // values + packed_bytes; spec: 1 bit, the group size
};

// W [out, in], H [in, in] (gptq.py's 2/n Σ x xᵀ, not modified).
PbllmResult pbllm_quantize(const at::Tensor& W, const at::Tensor& H, const PbllmOptions& o);

}  // namespace ptq
