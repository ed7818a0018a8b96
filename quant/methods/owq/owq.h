#pragma once
// OWQ, outlier-aware weight quantization (Lee et al., 2024), following xvyaward/owq main.py
// layerwise_quantize and owq/recon.py GPTQ_OWQ:
//   sensitivity of input column j: λ_j = H_jj · ||W_:,j - Q(W)_:,j||², Q the layer's quantizer
//     applied per output channel (main.py's temp_quantizer: perchannel, the run's bits and sym,
//     find_params(num=40)) — or H_jj alone (--no_frob_norm);
//   quantizer parameters (--tuning, default mse): owq/quant.py Quantizer.find_params with mse,
//     a grid search of the range (num steps of xrange·i/num) and, asymmetric, of the zero point
//     (every level), minimising mean |x - Q(x)|^2.4 per row — in the sensitivity (num 40) and in
//     GPTQ (num 100 per channel, 40 per group, as recon.py's calls); tuning minmax: gptq.py's min/max;
//   the k columns of largest λ stay in fp16; the others are quantized by GPTQ with the kept
//   columns moved after them (hessian_sorting: the quantized ones in their original order, or by
//   decreasing λ with act_order), so the GPTQ updates flow into the kept columns, which keep
//   their compensated values (fasterquant: Q[:, n_nonout:] = W[:, n_nonout:]); groups of the
//   group size run over the quantized columns, the last one shorter when k is not a multiple.
//   k from a fraction: round(in · fraction), made even (main.py's n_out for the kernel).
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "quant/formats/quantizer.h"
#include "quant/methods/gptq/gptq.h"

namespace ptq {

struct OwqOptions {
  int64_t columns = 0;     // k; 0: from `fraction`
  double fraction = 0.01;  // of the input width, when columns == 0
  bool frob_norm = true;   // λ_j = H_jj·||ΔW_:,j||² (false: H_jj)
  bool mse = true;         // --tuning mse (false: minmax)
  GptqOptions gptq;        // percdamp, blocksize, act_order (order/quantized_columns are set here)
};

// The number of kept columns of a layer with `in` input features. Throws ptq::Error when
// columns >= in or the fraction is outside (0, 1).
int64_t owq_kept_count(int64_t in, const OwqOptions& o);

// owq/quant.py find_params(x, weight=True, num) with mse=True on x [rows, width] (one group per row):
// [rows, 1] scale and zero in this project's convention (symmetric: zero 2^(b-1)). Int only.
QuantParams owq_mse_params(const at::Tensor& x, const QuantSpec& s, int64_t num);

// λ per input column (float32 [in]) of W [out, in] with the damped-free Hessian H [in, in].
at::Tensor owq_sensitivity(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, bool frob_norm,
                           bool mse = true);

struct OwqResult {
  at::Tensor weight;          // dequantized, kept columns at their compensated values
  QuantizedWeight q;          // with kept_columns / kept_values
  std::vector<int64_t> kept;  // sorted
  double loss = 0.0;
  at::Tensor row_loss;
  int64_t dead_columns = 0;
};

OwqResult owq_quantize(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, const OwqOptions& o);

}  // namespace ptq
