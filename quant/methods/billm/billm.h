#pragma once
// BiLLM (Huang et al., 2024), following Aaronhuang-778/BiLLM bigptq.py BRAGPTQ.fasterquant with
// low_quant_method "braq" (the paper's), binary.py high_order_residual, utils/structure.py,
// utils/autosearch.py structural_searching and utils/mask.py:
//   dead columns, damping and Hinv (the upper Cholesky factor of inv(H)) as gptq.py;
//   per block of `blocksize` columns (128; the binarization group is the block, run.py's
//   groupsize = blocksize), on the block's current (compensated) weights W1:
//     the search matrix T = W1 (magnitude) or W1²/diag(Hinv1)² (hessian);
//     salient columns: the columns ranked by Σ_rows |T|; for i = 1 .. up_lim-1 (up_lim =
//       `search_columns`, 50 in the reference) the top i columns binarized with two residual
//       bases (order 2) and the rest with order 2 too, i chosen by the least mean squared error
//       on T (the first minimum);
//     break point: 81 candidates, the quantiles 0.10, 0.11, .. 0.90 (np.quantile, linear) of
//       |T| with the salient columns zeroed (their zeros included, as the reference); the
//       non-salient weights split into |T| < p and |T| >= p, each binarized (order 1), p chosen by
//       the least error of the three parts on T;
//     the weights: the three parts of W1 binarized with those masks (orders 1, 1, 2), the block's
//       error (W1 - Q1)/diag(Hinv1) spread over the later blocks (Err1 · Hinv[block, rest]) — the
//       reference has no update inside a block.
// Deviations: blocks narrower than up_lim (a layer narrower than 50 columns, or its last block)
// search their own width (the reference's topk would fail); the column ranking is a stable sort
// (torch.topk's order of ties is unspecified).
//
// Stored form, counted exactly (QuantizedWeight::packed_bytes): two bits per weight — the two
// bases' signs of a salient weight, or a non-salient weight's sign and its split bit (the bitmap of
// |T| >= p) —, the salient-column bitmap (one bit per column), and per row and block eight fp16
// parameters (μ and α of the two salient bases and of the two non-salient groups). With blocks of
// 128 that is 2 + 1/out + 1 bits per weight: the paper's 1.08 bits count neither the split bitmap
// nor the parameters.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "quant/formats/quantizer.h"

namespace ptq {

struct BillmOptions {
  std::string criterion = "hessian";  // magnitude | hessian (the README's runs; run.py's default is magnitude)
  int64_t blocksize = 128;
  int64_t search_columns = 50;        // up_lim of structural_searching
  double percdamp = 0.01;
};

// Throws ptq::Error naming the option (an unknown criterion, blocksize or search_columns < 2).
void check_billm_options(const BillmOptions& o);

// The three masks of one block (bool [rows, cols]): non-salient below / at or above the break
// point, and the salient columns.
struct BillmSplit {
  at::Tensor below, above, salient;
  int64_t salient_columns = 0;
  double break_point = 0.0;
};
// structural_searching + generate_structural_mask on the search matrix T [rows, cols].
BillmSplit billm_split(const at::Tensor& T, int64_t search_columns);

// The packed bytes of an [out, in] layer with blocks of `blocksize` columns.
int64_t billm_storage_bytes(int64_t out, int64_t in, int64_t blocksize);

struct BillmResult {
  at::Tensor weight;  // float32 [out, in], dequantized
  std::vector<int64_t> salient_columns;  // per block
  double loss = 0.0;                     // Σ (w - q)²/d²/2
  int64_t dead_columns = 0;
  QuantizedWeight q;                     // values + packed_bytes; spec: 1 bit, group = blocksize
};

// W [out, in], H [in, in] (gptq.py's 2/n Σ x xᵀ, not modified).
BillmResult billm_quantize(const at::Tensor& W, const at::Tensor& H, const BillmOptions& o);

}  // namespace ptq
