#pragma once
// Bit-exact rounding onto the small float formats and the block formats, emulated in float32
// with whole-tensor at:: ops (no per-element loops), for weights and activations alike.
//
//   round_to_minifloat: FP4 E2M1 (max 6), FP8 E4M3 (OCP "fn", max 448), FP8 E5M2 (max 57344):
//     round to nearest, ties to even; subnormals kept; magnitudes above the largest finite value
//     (and ±inf) saturate to ±max (the OCP "satfinite" conversion, and what compressed-tensors
//     gets by clamping before its cast); NaN stays NaN; -0 stays -0.
//   MXFP4 / MXFP8 (OCP Microscaling v1.0): blocks of 32 consecutive elements share an E8M0 scale
//     2^e. e is computed as compressed-tensors does (quantization/utils/mxfp_utils.py
//     generate_mx_scales): amax is rounded to a power of two (up when its mantissa is >= 1.75,
//     round_to_power_2), e = log2(that) - emax_elem (2 for E2M1, 8 for E4M3), the biased exponent
//     clamped to the E8M0 range [0, 254]. (The OCP spec's floor(log2 amax) - emax differs only
//     for mantissas >= 1.75, which then saturate.) Elements: x / 2^e clamped and rounded as above.
//   NVFP4 (compressed-tensors tensor_group strategy): global = 448·6 / amax(tensor) (float32);
//     block (16) scale s = fp8_e4m3(global · amax(block) / 6), zero replaced by 0.125 (the E4M3
//     eps); element q = fp4(clamp(x / (s / global), ±6)), value q · (s / global).
#include <ATen/ATen.h>

#include "quant/formats/quant_spec.h"

namespace ptq {

// x rounded onto format f (FP4, FP8_E4M3, FP8_E5M2; the MX element formats too); float32 in and
// out, any shape. Throws ptq::Error for other formats.
at::Tensor round_to_minifloat(const at::Tensor& x, WeightFormat f);
// The element format of a block format (MXFP4, NVFP4 -> FP4; MXFP8 -> FP8_E4M3), f otherwise.
WeightFormat element_format(WeightFormat f);
// Largest finite magnitude: 6, 448, 57344 (element format for the block formats).
double minifloat_max(WeightFormat f);

// Block scales from block maxima amax (float32, any shape): MX: the E8M0 power of two
// (compressed-tensors generate_mx_scales); NVFP4: fp8_e4m3(global · amax / 6) / global with
// global = 448·6 / global_amax (a zero block scale becomes 0.125 first). The element of x is then
// round_to_minifloat(clamp(x / scale, ±max), element_format(f)) · scale.
at::Tensor block_scale(const at::Tensor& amax, WeightFormat f, const at::Tensor& global_amax = {});

// Fake quantization in a block format along the last dimension (its size a multiple of the
// block, else ptq::Error); float32 in and out, same shape. NVFP4's global scale comes from
// `global_amax` when defined (a calibrated per-tensor max), else from x's own max.
at::Tensor fake_quantize_blocks(const at::Tensor& x, WeightFormat f, const at::Tensor& global_amax = {});

}  // namespace ptq
