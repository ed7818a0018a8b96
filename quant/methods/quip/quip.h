#pragma once
// QuIP, quantization with incoherence processing (Chee et al., 2023), following
// Cornell-RelaxML/QuIP with --incoh_processing (opt.py: pre_gptqH, pre_rescale, pre_proj with
// pre_proj_extra 1, qfn 'b'); method.py QuantMethod.preproc / postproc, vector_balance.py round_ldl:
//   1. rescale (preproc_rescale): H /= max|H|; s = (clamp(diag H, 1e-8) / clamp(diag WᵀW, 1e-8))^¼,
//      clamped to >= 1e-8; W <- W·diag(s), H <- diag(s)⁻¹·H·diag(s)⁻¹;
//   2. incoherence (preproc_proj): H <- H·n/(tr H + 1e-8) + 1e-2·I; W' = U W Vᵀ, H' = V H Vᵀ with
//      U, V random orthogonal (incoherence.h: Kronecker products of two Haar factors, or QuIP#'s
//      randomized Hadamard);
//   3. gptqH: dead columns and damping percdamp·mean(diag H') (in the GPTQ kernel, gptq.h);
//   4. rounding of W' with H' on the grid of qfn 'b': one scale c = 2.4·RMS(W') (the whole
//      matrix without a group size, as the reference; each group's RMS with one), the 2^b levels
//      c·(2k/(2^b-1) - 1), i.e. code = clamp(round(w/σ + z), 0, 2^b-1) with σ = 2c/(2^b-1), z = (2^b-1)/2
//      — or, with grid "minmax", GPTQ's own min/max parameters per channel or group. Rounding:
//        ldlq: LDLQ, which is GPTQ's update in the reverse column order (round_ldl walks the
//          columns from the last; the paper's Theorem: LDLQ = OPTQ), run with the GPTQ kernel,
//          then `greedy_passes` passes of round_ldl's greedy coordinate descent on tr(ΔH'Δᵀ)
//          (from the last column; here each step's code is clamped to the grid, where the
//          reference clamps after the pass without updating its residual; a pass that changes
//          nothing ends them, as the reference's fixed-point check);
//        gptq: GPTQ's own order and options (QuIP's --quant gptq with incoherence: quip+gptq);
//        nearest: round to nearest (QuIP's --quant nearest: quip+rtn);
//   5. dequantized weight Uᵀ·Q(W')·V·diag(s)⁻¹ (postproc).
// The quantized form stores the codes, the scales and the fp16 column scales s; U and V are
// regenerated from the layer's seed (QuantizedWeight::incoherence_seed).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "quant/formats/quantizer.h"
#include "quant/methods/gptq/gptq.h"

namespace ptq {

struct QuipOptions {
  std::string incoherence = "kron";  // kron | hadamard
  uint64_t seed = 0;                 // the layer's seed (incoherence_layer_seed)
  bool rescale = true;               // step 1
  std::string rounding = "ldlq";     // ldlq | gptq | nearest
  int64_t greedy_passes = 1;         // ldlq only (the reference's --npasses, default 1)
  std::string grid = "rms";          // rms (qfn 'b') | minmax (qfn 'a')
  GptqOptions gptq;                  // percdamp, blocksize; act_order with rounding gptq
  std::string layer;                 // the layer's name, for error messages
};

// Steps 1-2 without quantization: the processed weight and Hessian, and s (undefined without
// rescale).
struct QuipProcessed {
  at::Tensor W, H, col_scale;
};
QuipProcessed quip_preprocess(const at::Tensor& W, const at::Tensor& H, const QuipOptions& o);
// Step 5 on a processed weight: Uᵀ·W'·V·diag(s)⁻¹.
at::Tensor quip_postprocess(const at::Tensor& Wp, const at::Tensor& col_scale, const QuipOptions& o);

struct QuipResult {
  QuantizedWeight q;        // with incoherence, incoherence_seed and col_scale set
  double proxy_loss = 0;    // tr(ΔH'Δᵀ) of the processed weight, H' normalised as in step 2
  double mu_before = 0;     // incoherence_mu(W)
  double mu_after = 0;      // incoherence_mu(W'), the weight that was rounded
  int64_t greedy_passes_run = 0;
  int64_t dead_columns = 0;
};

// W [out, in], H [in, in] (the layer's GPTQ Hessian); spec: Int. Throws ptq::Error (naming
// o.layer) for an unknown incoherence kind, rounding or grid, negative passes, a spec other than
// Int, or a Hessian that is not positive definite after damping.
QuipResult quip_quantize(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, const QuipOptions& o);

}  // namespace ptq
