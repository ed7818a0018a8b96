#pragma once
// Column-wise weight error (LLMC, Gong et al. 2024, Fig. 5): for a weight W [out, in] and its
// quantized form Q(W), the relative error of every input column j,
//   e_j = ‖W[:,j] − Q(W)[:,j]‖₂ / ‖W[:,j]‖₂,
// in the weight's own column order (GPTQ without act-order quantizes in this order, so its error
// grows toward the last columns; with act-order it processes columns by descending Hessian
// diagonal instead). W is the weight the quantizer saw, after the method's transforms (AWQ scales,
// QuaRot's rotation), as the layer's weight_rel_error is. A zero column gives e_j = 0 when its
// quantized column is zero too (the denominator is clamped at 1e-30, as weight_rel_error's).
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace ptq {

// e_j for every column (float32 arithmetic on W's device).
std::vector<float> column_relative_error(const at::Tensor& W, const at::Tensor& Wq);

// `v` as float16 little-endian bytes, base64 (RFC 4648, padded): 2 bytes per column before the
// encoding, so a 4096-column layer takes 10.9 KB of JSON.
std::string encode_float16_base64(const std::vector<float>& v);
// The inverse (tests; the views decode with Qt). Throws ptq::Error on a malformed string.
std::vector<float> decode_float16_base64(const std::string& s);

}  // namespace ptq
