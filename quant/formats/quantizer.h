#pragma once
// Element quantizers for weights: integer (GPTQ/AWQ-style affine), NF4, FP4 (E2M1) and
// FP8 (E4M3 / E5M2) emulated in float32. No Qt in this layer.
//
// Integer conventions (match IST-DASLab/gptq quant.py):
//   asymmetric: the range always includes 0 (min = min(min,0), max = max(max,0));
//               scale = (max-min)/(2^b-1), zero = round(-min/scale)
//   symmetric:  zero = 2^(b-1), scale = 2·max|w|/(2^b-1)
//   all-zero rows/groups use min=-1, max=+1 (as gptq quant.py)
//   q = clamp(round(w/scale) + zero, 0, 2^b-1) (round half to even, like torch.round),
//   dequant = scale*(q-zero), all in float32.
//   clip_ratio p shrinks the range to p*min .. p*max (the grid of gptq's mse search).
// Codebook formats (NF4, FP4, FP8): scale = clip_ratio·absmax / max|grid| per group, the
// element is w/scale rounded to the nearest grid value; codes index the sorted grid.
// Block formats (MXFP4, MXFP8, NVFP4): groups are the format's blocks (32, 32, 16), scales as
// quant/formats/number_formats.h, elements on the E2M1 / E4M3 grid.
// Symmetric Int with absmax_sym (--sym-style absmax): scale = max(max|w|, 1e-5)/(2^(b-1)-1),
// zero 2^(b-1) (SmoothQuant fake_quant.py quantize_weight_per_channel_absmax).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "quant/formats/quant_spec.h"

namespace ptq {

// Quantization parameters for rows × groups. scale: float32 [rows, n_groups].
// zero: float32 [rows, n_groups] for Int (constant 2^(b-1) when symmetric); undefined for
// NF4/FP4/FP8.
struct QuantParams {
  at::Tensor scale, zero;
};

// Row-wise parameters for a slice w[rows, cols] treated as one group per row
// (result [rows, 1]); spec.group_size is ignored here. Used by GPTQ per group.
QuantParams find_params(const at::Tensor& w, const QuantSpec& s);
// Block formats: MX scales are E8M0 powers of two; NVFP4's depend on the whole tensor's max
// (`nv_global_amax`, float32 scalar; undefined = the slice's own max). number_formats.h.
QuantParams find_params(const at::Tensor& w, const QuantSpec& s, const at::Tensor& nv_global_amax);

// Codes (uint8) for w[rows, cols] under params [rows, g]; g must divide cols and each
// params column covers cols/g consecutive columns (g == 1 broadcasts). Int: 0..2^b-1;
// codebook formats: index into format_grid().
at::Tensor quantize_codes(const at::Tensor& w, const QuantParams& p, const QuantSpec& s);
// float32 values for codes[rows, cols] with the same params layout.
at::Tensor dequantize_codes(const at::Tensor& codes, const QuantParams& p, const QuantSpec& s);

// Both at once; `deq` is bitwise equal to dequantize_codes(codes, ...). GPTQ's inner loop.
void quantize_dequantize(const at::Tensor& w, const QuantParams& p, const QuantSpec& s,
                         at::Tensor* codes, at::Tensor* deq);

// Sorted float32 grid of representable (unscaled) values of a codebook format:
// NF4: 16 values in [-1,1]; FP4 E2M1: 15 values (±0 merged) in [-6,6];
// FP8 E4M3: 253 values in [-448,448]; FP8 E5M2: 247 values in [-57344,57344].
// Throws for WeightFormat::Int.
at::Tensor format_grid(WeightFormat f, at::Device dev = at::kCPU);
// max |grid| (1, 6, 448, 57344).
double format_max(WeightFormat f);

struct QuantizedWeight {  // the integer form kept for size accounting and export
  QuantSpec spec;
  at::Tensor codes;   // uint8 [out, in]
  at::Tensor scales;  // float32 [out, n_groups]
  at::Tensor zeros;   // float32 [out, n_groups] (Int) or undefined (codebook formats)
  at::Tensor g_idx;   // int64 [in]: group of each input column; undefined = consecutive groups
  // 0: integer zeros, packed at `bits` per group; > 0: real-valued zeros stored at this many
  // bytes each (HQQ keeps them in fp16: 2).
  int zero_bytes = 0;
  // OWQ: input columns kept in full precision (int64 [k], sorted) and their values (float32
  // [out, k]); their codes are ignored. Without g_idx the groups run over the other columns in
  // order: group size consecutive quantized columns each, the last one possibly shorter
  // (owq/recon.py); g_idx, when defined, gives every column's group explicitly.
  at::Tensor kept_columns, kept_values;
  // Binarization (PB-LLM, BiLLM): the weight is not codes x scales but a sum of masked binary
  // planes (quant/methods/pbllm, quant/methods/billm). `values` (float32 [out, in]) holds its
  // dequantized form, which dequantize() returns, and `packed_bytes` the exact bytes of its packed
  // form as the method counts it (signs, masks as bitmaps or indices, kept weights, fp16
  // parameters), which storage_bytes() returns; codes / scales stay undefined.
  at::Tensor values;
  int64_t packed_bytes = 0;
  // QuIP (quant/methods/quip/quip.h): the codes quantize W' = U·(W·diag(col_scale))·Vᵀ, and
  // dequantize() returns Uᵀ·deq(codes)·V·diag(1/col_scale). U [out, out] and V [in, in] are not
  // stored: incoherence_matrix(incoherence, n, incoherence_side_seed(incoherence_seed, 0 | 1))
  // regenerates them (quant/methods/quip/incoherence.h). col_scale (float32 [in], QuIP's diagonal
  // rescaling; undefined when off) is stored in fp16. incoherence empty: no transform.
  std::string incoherence;
  uint64_t incoherence_seed = 0;
  at::Tensor col_scale;
  // HQQ axis 0 (groups along the output dimension: hqq's W.reshape([group_size, -1]), each group
  // group_size weights of one input column): codes, scales and zeros are those of that reshape's
  // transpose X [out·in/G, G], one group per row; dequantize() returns Xᵀ reshaped to [out, in].
  // The number of output rows, 0 when not used.
  int64_t axis0_out = 0;

  at::Tensor dequantize() const;  // float32 [out, in]
  // Bytes of the stored form: codes packed at element_bits(); one scale per group at
  // `scale_bytes`; zeros packed at `bits` per group (AutoGPTQ qzeros) only for asymmetric
  // Int (the symmetric zero is the constant 2^(b-1) and costs nothing), or zero_bytes each when
  // real-valued; g_idx, when defined, as int32 per input column (AutoGPTQ). Kept columns: no
  // codes, their values in fp16 (2 bytes each) and their indices as int32 (OWQ's outlieridx).
  // QuIP: col_scale in fp16; U and V cost nothing (the seed, 8 bytes, is counted).
  // Each part is rounded up to whole bytes. Binarized weights: packed_bytes.
  int64_t storage_bytes(int scale_bytes = 2) const;
};

// Round-to-nearest, grouped along the input dim (groups of group_size consecutive columns).
QuantizedWeight quantize_weight(const at::Tensor& w, const QuantSpec& s);
// Quantize-dequantize; same dtype/device/shape as w (leading dims are flattened into rows).
at::Tensor fake_quantize(const at::Tensor& w, const QuantSpec& s);

}  // namespace ptq
