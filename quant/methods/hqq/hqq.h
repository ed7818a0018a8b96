#pragma once
// HQQ, half-quadratic quantization (Badri & Shaji, 2023), calibration-free: per group, the zero
// point is found by a proximal (half-quadratic) solver of min ||W - Q⁻¹(Q(W))||_p^p with p < 1,
// following mobiusml/hqq hqq/core/quantize.py Quantizer.quantize and hqq/core/optimize.py
// optimize_weights_proximal_legacy:
//   groups (axis=1, BaseQuantizeConfig's default): W.reshape([-1, group_size]), i.e. group_size
//     consecutive input columns of a row; per channel without a group size;
//   init: scale = (2^b-1) / (max-min) (the inverse scale, computed as Python does it:
//     reciprocal(max-min)·(2^b-1); 1 where |max-min| <= 1e-4, clamped to
//     at most 2e4), zero = -min·scale, rounded when round_zero (BaseQuantizeConfig: for 4 bits);
//     the range is the group's own min..max (it need not include 0);
//   each iteration: W_q = clamp(round(W·scale + zero), 0, 2^b-1), W_r = (W_q - zero)/scale,
//     W_e = shrink_p(W - W_r, beta), zero = mean over the group of (W_q - (W - W_e)·scale);
//     error = mean |W - W_r| over the whole tensor; stop when it does not decrease (the zero of
//     that iteration is kept, as the reference); beta stays fixed (kappa = 1, below);
//   shrink_p(x, beta) = sign(x)·relu(|x| - |x|^(p-1)/beta) (p = 1: relu(|x| - 1/beta));
//   final W_q = clamp(round(W·scale + zero)), stored scale 1/scale, zero real-valued.
// The reference's loop since its May 2025 refactor (commit a566c78, still so at e0b1d00) no longer
// multiplies beta by kappa: its opt_params' "kappa": 1.01 is read and unused. kappa defaults to 1
// for that; kappa > 1 is the paper's schedule (beta *= kappa after each iteration, the code before
// a566c78). The reference solves in float16 on CUDA and float32 on CPU; this runs in float32
// everywhere. Its zero update, the best-error bookkeeping and the shrink are the reference's;
// austen-small's PPL after HQQ matches the reference's CPU run (bench/hqq_reference_weights.py).
// axis 0 (Quantizer.quantize's own default, and what hqq's README calls the better-quality
// setting: "In general axis=0 gives better results than axis=1, especially at lower bits"):
//   W.reshape([group_size, -1]), min/max and the zero's mean along dim 0, i.e. each group is
//   group_size weights at a stride of out·in/G in W's row-major order (one input column, rows out/G
//   apart when G divides out). The
//   solver runs on that reshape's transpose, one group per row; QuantizedWeight::axis0_out says so.
#include <ATen/ATen.h>

#include <string>

#include "quant/formats/quantizer.h"

namespace ptq {

struct HqqOptions {
  int64_t iters = 20;     // opt_params "iters"
  double lp_norm = 0.7;   // p of the shrinkage
  double beta = 10.0;     // initial beta (1e1)
  double kappa = 1.0;     // beta *= kappa per iteration (1: the reference's legacy solver today)
  bool optimize = true;   // false: the initial (min/max) parameters only
  bool round_zero = false;
  int axis = 1;           // 1: BaseQuantizeConfig's default (groups along the input); 0: along the output
};

struct HqqResult {
  QuantizedWeight q;       // codes, scales (1/scale), real-valued zeros (zero_bytes = 2)
  int64_t iterations = 0;  // iterations the solver ran (the last one did not improve unless all ran)
  double error = 0.0;      // mean |W - dequant| of the final parameters
};

// The initial parameters of Quantizer.quantize for groups x [n, G] (one group per row): the
// inverse scale and the zero, [n, 1] each.
void hqq_initial_params(const at::Tensor& x, int bits, bool round_zero, at::Tensor* inv_scale, at::Tensor* zero);

// The proximal solver on groups x [n, G] (float32) from the given inverse scale and zero
// ([n, 1]); updates zero in place and returns the number of iterations run.
int64_t hqq_optimize_zero(const at::Tensor& x, const at::Tensor& inv_scale, at::Tensor& zero, int bits,
                          const HqqOptions& o);

// W [out, in]; spec: Int, asymmetric, group size dividing in (or -1). Throws ptq::Error otherwise.
HqqResult hqq_quantize(const at::Tensor& W, const QuantSpec& s, const HqqOptions& o = HqqOptions());

}  // namespace ptq
