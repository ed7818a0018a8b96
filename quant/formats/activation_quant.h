#pragma once
// Fake (simulated) quantization of activations: x -> dequant(quant(x)) in x's dtype and shape,
// one short sequence of whole-tensor at:: ops (absmax, divide, round, clamp, multiply), no copies
// beyond the float32 working tensor. Spec and conventions: quant/formats/act_spec.h.
//
// INT b, symmetric absmax: scale = max(max|x|, 1e-5) / (2^(b-1) - 1), q = clamp(round(x / scale),
// ±(2^(b-1) - 1)), value q · scale (mit-han-lab/smoothquant smoothquant/fake_quant.py
// quantize_activation_per_token_absmax / _per_tensor_absmax: clamp_(min=1e-5).div_(q_max);
// spcl/QuaRot fake_quant/quant_utils.py ActQuantizer.find_params with sym: xmax.clamp(min=1e-5),
// scale = xmax / maxq). The clamp only matters for static scales (values beyond the calibrated
// range saturate); QuaRot's clamp allows -(maxq+1), we keep the symmetric ±maxq.
// FP8 / FP4: scale = max|x| / max_value (a zero scale replaced by float32 eps, compressed-tensors
// calculate_qparams), x / scale clamped to ±max and rounded by round_to_minifloat.
// MXFP4 / MXFP8 / NVFP4: fake_quantize_blocks along the channels (granularity is the block).
#include <ATen/ATen.h>

#include "quant/formats/act_spec.h"

namespace ptq {

// x [..., width]. static_scale: undefined for dynamic scales; else the calibrated scale (float32,
// on x's device): [1] for tensor granularity, [width / group] for group granularity (for NVFP4:
// the calibrated global amax, [1]).
at::Tensor fake_quantize_activation(const at::Tensor& x, const ActQuantSpec& s, const at::Tensor& static_scale = {});

// The scale that maps amax to the largest code: amax / (2^(b-1) - 1) (INT), amax / max (FP);
// amax is float32 of any shape. Static calibration turns clipped maxima into scales with it.
at::Tensor act_scale_from_amax(const at::Tensor& amax, const ActQuantSpec& s);

// Quantize-dequantize of x (float32) under given scales (broadcastable to x): the shared core.
at::Tensor fake_quantize_with_scale(const at::Tensor& x, const at::Tensor& scale, const ActQuantSpec& s);

}  // namespace ptq
