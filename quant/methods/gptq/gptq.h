#pragma once
// GPTQ (Frantar et al. 2022), following IST-DASLab/gptq gptq.py `GPTQ.add_batch` and
// `GPTQ.fasterquant` step by step, with any element quantizer of quant/quantizer.h.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "quant/formats/quantizer.h"
#include "quant/methods/gptq/gptq_columns.h"

namespace ptq {

// Running H = 2/n · Σ x xᵀ in float32 on `dev`, exactly as gptq.py add_batch:
//   a 2-D input [tokens, in] counts as ONE sample (gptq.py unsqueezes it to a batch of 1);
//   a 3-D input [batch, seq, in] counts as `batch` samples; all rows are used.
//   H *= n/(n+k); n += k; x = sqrt(2/n)·x.float(); H += xᵀx.
// So feeding one calibration sequence per call gives n = number of sequences, as in the
// reference. The scale of H does not change GPTQ's result (only the reported loss).
class HessianAccumulator {
 public:
  explicit HessianAccumulator(int64_t in_features, at::Device dev = at::kCPU);
  void add(const at::Tensor& inp);  // [tokens, in] or [batch, seq, in], any float dtype
  const at::Tensor& H() const { return H_; }
  int64_t samples() const { return nsamples_; }
  int64_t in_features() const { return in_; }
  // CUDA only: xᵀx on tensor cores, float32 accumulation: bf16/fp16 inputs as they are (exact
  // products), float32 inputs in TF32. Off by default (the float32 reference's products).
  void set_tf32(bool on) { tf32_ = on; }

 private:
  bool add_16bit_products(const at::Tensor& src, int64_t k);
  int64_t in_;
  at::Tensor H_;
  int64_t nsamples_ = 0;
  bool tf32_ = false;
};

struct GptqOptions {
  double percdamp = 0.01;   // damping = percdamp · mean(diag H)
  int64_t blocksize = 128;  // lazy-batch block width
  bool act_order = false;   // process columns by decreasing diag(H)
  bool static_groups = false;  // group params from the original W (before any update)
  // OWQ (owq/recon.py GPTQ_OWQ.fasterquant): a column order given by the caller (a permutation
  // of 0..in-1, instead of act_order's), and the number of leading columns of that order that are
  // quantized; the columns after them are not quantized, only updated with the error of the
  // quantized ones, and return their compensated values in `weight` (codes 0). Groups run over
  // the quantized positions, the last one clipped to them. -1: all columns.
  std::vector<int64_t> order;
  int64_t quantized_columns = -1;
  // QuIP (quant/methods/quip/quip.h): every group's parameters given ([rows, groups] scale and
  // zero, Int only), used as static groups use theirs; any order. Undefined: found as gptq.py does.
  at::Tensor fixed_scale, fixed_zero;
  // OWQ (owq/quant.py Quantizer.find_params with mse): the parameters of a block of columns
  // [rows, width] instead of find_params (Int only); empty: find_params.
  std::function<QuantParams(const at::Tensor&)> find_params_fn;
};

struct GptqResult {
  at::Tensor weight;  // dequantized, same dtype/device as the input W
  QuantizedWeight q;  // q.dequantize() equals weight (in float32, before the dtype cast)
  double loss = 0.0;  // sum of Losses as in gptq.py ((w-q)²/d²/2 over all entries)
  at::Tensor row_loss;  // float64 [out]: the loss of each output row (rows are independent given H)
  int64_t dead_columns = 0;  // columns with H[i,i] == 0 (set to zero, H[i,i] = 1)
  ColumnLoop column_loop;    // which implementation ran the column blocks (CUDA graph or eager)
};

// The upper Cholesky factor U of inv(H) (inv(H) = U^T U) of an already damped H, the Hinv of gptq.py,
// from one Cholesky factorization and one triangular inverse. Throws ptq::Error naming the failed
// column (and `percdamp`, for the message) when H is not positive definite. Used by PB-LLM and BiLLM too.
at::Tensor hinv_upper(const at::Tensor& H, double percdamp);

// W [out, in] (any float dtype), H [in, in] float32 (not modified). Computation runs on
// W's device in float32. Throws ptq::Error on bad shapes/spec or a non-positive-definite
// damped H (suggesting a larger percdamp).
GptqResult gptq_quantize(const at::Tensor& W, at::Tensor H, const QuantSpec& s,
                         const GptqOptions& o = GptqOptions());

}  // namespace ptq
