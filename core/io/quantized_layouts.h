#pragma once
// Bit layouts of the quantized checkpoint formats that vLLM and transformers load, as plain
// integer packing (no quantization here: codes and zero points are unsigned integers
// 0..2^bits-1, the workbench's own convention, quant/formats/quantizer.h).
//
// GPTQ (AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py pack(), read by vLLM
// model_executor/layers/quantization/gptq.py / gptq_marlin.py): values are laid out as one
// continuous little-endian bit stream of `bits`-bit fields in int32 words, least significant bits
// first. For 2/4/8 bits each word holds 32/bits whole values; for 3 bits 32 values fill 3 words and
// values 10 and 21 of each 32 spill over a word boundary (bits 30-31 + bit 0, bit 31 + bits 0-1),
// exactly pack()'s `intweight[i] << 30 ... (intweight[i] >> 2) & 1` interleave. qweight packs along
// the input dimension (rows of the [in, out] transpose), qzeros along the output dimension.
//
// AWQ GEMM (casper-hansen/AutoAWQ awq/modules/linear/gemm.py WQLinear_GEMM.from_linear,
// awq/utils/packing_utils.py; vLLM awq.py): 4 bits, 8 values per int32 along the output dimension,
// nibble i holding value order_map[i] of the 8 with order_map = [0, 2, 4, 6, 1, 3, 5, 7].
//
// compressed-tensors pack-quantized (neuralmagic/compressed-tensors
// src/compressed_tensors/compressors/quantized_compressors/pack_quantized.py pack_to_int32 /
// unpack_from_int32): 32/bits values per int32 word (no spill-over; the last word zero-padded),
// value i of a word at bits [bits·i, bits·(i+1)), the unsigned value being the signed code +
// 2^(bits-1) -- which is the workbench's unsigned code.
#include <ATen/ATen.h>

#include <cstdint>

namespace ptq {

// `values` (any integer dtype, 2-D, each in [0, 2^bits)) packed along `dim` (0 or 1) into int32
// words as GPTQ's continuous bit stream. bits in 2..8; the packed dimension must be a multiple of
// 32 / gcd(bits, 32) (8 for 4 bits, 32 for 3 bits). Throws ptq::Error naming `what`.
at::Tensor pack_gptq_bitstream(const at::Tensor& values, int bits, int64_t dim, const std::string& what);
// The inverse: `count` values along `dim` (count·bits/32 words), int32 results in [0, 2^bits).
at::Tensor unpack_gptq_bitstream(const at::Tensor& packed, int bits, int64_t dim, int64_t count, const std::string& what);

// AWQ GEMM: values [rows, cols] (cols a multiple of 8, 4 bits) -> int32 [rows, cols/8].
at::Tensor pack_awq_gemm(const at::Tensor& values, const std::string& what);
at::Tensor unpack_awq_gemm(const at::Tensor& packed, const std::string& what);

// compressed-tensors pack_to_int32: 32/bits values per word along `dim`, zero-padded.
at::Tensor pack_ct_int32(const at::Tensor& values, int bits, int64_t dim, const std::string& what);
at::Tensor unpack_ct_int32(const at::Tensor& packed, int bits, int64_t dim, int64_t count, const std::string& what);

// int64 words in [0, 2^32) <-> int32 with the same bits (numpy's uint32 -> int32 view).
at::Tensor words_to_int32(const at::Tensor& words64);
at::Tensor int32_to_words(const at::Tensor& packed);

// FP8 E4M3 (OCP "fn": bias 7, no infinities, 0x7f/0xff NaN) bytes <-> float32. encode requires
// every value exactly representable (the workbench's FP8 grid values) and throws otherwise.
at::Tensor encode_fp8_e4m3(const at::Tensor& values, const std::string& what);
at::Tensor decode_fp8_e4m3(const at::Tensor& bytes);

}  // namespace ptq
