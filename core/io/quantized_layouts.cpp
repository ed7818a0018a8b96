#include "core/io/quantized_layouts.h"

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

constexpr int64_t kWord = int64_t(1) << 32;

void check_2d(const at::Tensor& t, int64_t dim, const std::string& what) {
  if (t.dim() != 2) throw Error(what + ": expected a 2-D tensor, got " + std::to_string(t.dim()) + "-D");
  if (dim != 0 && dim != 1) throw Error(what + ": packed dimension must be 0 or 1");
}

void check_bits(int bits, const std::string& what) {
  if (bits < 2 || bits > 8) throw Error(what + ": bits " + std::to_string(bits) + " outside 2..8");
}

// Values as int64 [n, m] with the packed dimension first, each checked to fit `bits`.
at::Tensor packed_dim_first(const at::Tensor& values, int bits, int64_t dim, const std::string& what) {
  at::Tensor v = (dim == 0 ? values : values.t()).to(at::kCPU, at::kLong).contiguous();
  if (v.numel() > 0 && (v.min().item<int64_t>() < 0 || v.max().item<int64_t>() >= (int64_t(1) << bits)))
    throw Error(what + ": values outside 0.." + std::to_string((1 << bits) - 1) + " cannot be packed at " +
                std::to_string(bits) + " bits");
  return v;
}

at::Tensor restore_dim(const at::Tensor& t, int64_t dim) { return dim == 0 ? t : t.t().contiguous(); }

}  // namespace

at::Tensor words_to_int32(const at::Tensor& w) {
  at::Tensor x = w.to(at::kLong);
  return at::where(x >= (kWord >> 1), x - kWord, x).to(at::kInt);
}

at::Tensor int32_to_words(const at::Tensor& p) { return at::bitwise_and(p.to(at::kLong), kWord - 1); }

at::Tensor pack_gptq_bitstream(const at::Tensor& values, int bits, int64_t dim, const std::string& what) {
  check_2d(values, dim, what);
  check_bits(bits, what);
  const int64_t g = std::gcd(bits, 32), chunk = 32 / g, words = bits / g;  // values / words per chunk
  at::Tensor v = packed_dim_first(values, bits, dim, what);
  const int64_t n = v.size(0), m = v.size(1);
  if (n % chunk != 0)
    throw Error(what + ": " + std::to_string(n) + " values along the packed dimension; " + std::to_string(bits) +
                "-bit GPTQ packing needs a multiple of " + std::to_string(chunk));
  v = v.view({n / chunk, chunk, m});
  at::Tensor out = at::zeros({n / chunk, words, m}, at::kLong);
  for (int64_t j = 0; j < chunk; ++j) {
    const int64_t off = j * bits, w = off / 32, s = off % 32;
    at::Tensor vj = v.select(1, j);
    out.select(1, w).bitwise_or_(at::bitwise_and(vj * (int64_t(1) << s), kWord - 1));
    if (s + bits > 32) out.select(1, w + 1).bitwise_or_(at::floor_divide(vj, int64_t(1) << (32 - s)));
  }
  return restore_dim(words_to_int32(out.view({n / chunk * words, m})), dim);
}

at::Tensor unpack_gptq_bitstream(const at::Tensor& packed, int bits, int64_t dim, int64_t count, const std::string& what) {
  check_2d(packed, dim, what);
  check_bits(bits, what);
  if (packed.scalar_type() != at::kInt) throw Error(what + ": packed tensor must be int32 (I32)");
  const int64_t g = std::gcd(bits, 32), chunk = 32 / g, words = bits / g;
  const int64_t rows = dim == 0 ? packed.size(0) : packed.size(1);
  if (count % chunk != 0 || count / chunk * words != rows)
    throw Error(what + ": " + std::to_string(rows) + " packed words cannot hold " + std::to_string(count) + " " +
                std::to_string(bits) + "-bit values (expected " + std::to_string(count * bits / 32) + ")");
  at::Tensor p = int32_to_words(dim == 0 ? packed : packed.t()).contiguous();
  const int64_t m = p.size(1), mask = (int64_t(1) << bits) - 1;
  p = p.view({count / chunk, words, m});
  at::Tensor out = at::empty({count / chunk, chunk, m}, at::kLong);
  for (int64_t j = 0; j < chunk; ++j) {
    const int64_t off = j * bits, w = off / 32, s = off % 32;
    at::Tensor vj = at::floor_divide(p.select(1, w), int64_t(1) << s);
    if (s + bits > 32) vj = vj + p.select(1, w + 1) * (int64_t(1) << (32 - s));
    out.select(1, j).copy_(at::bitwise_and(vj, mask));
  }
  return restore_dim(out.view({count, m}).to(at::kInt), dim);
}

namespace {
const int64_t kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};  // AutoAWQ gemm.py order_map
}

at::Tensor pack_awq_gemm(const at::Tensor& values, const std::string& what) {
  check_2d(values, 1, what);
  at::Tensor v = packed_dim_first(values, 4, 0, what);  // [rows, cols], no transpose
  const int64_t rows = v.size(0), cols = v.size(1);
  if (cols % 8 != 0)
    throw Error(what + ": " + std::to_string(cols) + " output columns; AWQ GEMM packing needs a multiple of 8");
  v = v.view({rows, cols / 8, 8});
  at::Tensor out = at::zeros({rows, cols / 8}, at::kLong);
  for (int64_t i = 0; i < 8; ++i) out.bitwise_or_(v.select(2, kAwqOrder[i]) * (int64_t(1) << (4 * i)));
  return words_to_int32(out);
}

at::Tensor unpack_awq_gemm(const at::Tensor& packed, const std::string& what) {
  check_2d(packed, 1, what);
  if (packed.scalar_type() != at::kInt) throw Error(what + ": packed tensor must be int32 (I32)");
  at::Tensor p = int32_to_words(packed).contiguous();
  const int64_t rows = p.size(0), words = p.size(1);
  at::Tensor out = at::empty({rows, words, 8}, at::kLong);
  for (int64_t i = 0; i < 8; ++i)
    out.select(2, kAwqOrder[i]).copy_(at::bitwise_and(at::floor_divide(p, int64_t(1) << (4 * i)), 15));
  return out.view({rows, words * 8}).to(at::kInt);
}

at::Tensor pack_ct_int32(const at::Tensor& values, int bits, int64_t dim, const std::string& what) {
  check_2d(values, dim, what);
  check_bits(bits, what);
  const int64_t per = 32 / bits;
  at::Tensor v = packed_dim_first(values, bits, dim, what);
  const int64_t n = v.size(0), m = v.size(1), words = (n + per - 1) / per;
  v = at::cat({v, at::zeros({words * per - n, m}, at::kLong)}, 0).view({words, per, m});  // zero padding
  at::Tensor out = at::zeros({words, m}, at::kLong);
  for (int64_t i = 0; i < per; ++i) out.bitwise_or_(v.select(1, i) * (int64_t(1) << (bits * i)));
  return restore_dim(words_to_int32(out), dim);
}

at::Tensor unpack_ct_int32(const at::Tensor& packed, int bits, int64_t dim, int64_t count, const std::string& what) {
  check_2d(packed, dim, what);
  check_bits(bits, what);
  if (packed.scalar_type() != at::kInt) throw Error(what + ": packed tensor must be int32 (I32)");
  const int64_t per = 32 / bits, words = (count + per - 1) / per;
  const int64_t have = dim == 0 ? packed.size(0) : packed.size(1);
  if (have != words)
    throw Error(what + ": " + std::to_string(have) + " packed words along dimension " + std::to_string(dim) +
                ", but " + std::to_string(count) + " " + std::to_string(bits) + "-bit values need " +
                std::to_string(words));
  at::Tensor p = int32_to_words(dim == 0 ? packed : packed.t()).contiguous();
  const int64_t m = p.size(1), mask = (int64_t(1) << bits) - 1;
  at::Tensor out = at::empty({words, per, m}, at::kLong);
  for (int64_t i = 0; i < per; ++i)
    out.select(1, i).copy_(at::bitwise_and(at::floor_divide(p, int64_t(1) << (bits * i)), mask));
  return restore_dim(out.view({words * per, m}).narrow(0, 0, count).to(at::kInt).contiguous(), dim);
}

namespace {
// Value of an E4M3 byte (OCP FP8 "fn"): bias 7, subnormals at exponent 0, 0x7f / 0xff NaN.
float fp8_e4m3_value(int b) {
  const int sign = b >> 7, e = (b >> 3) & 15, mant = b & 7;
  if (e == 15 && mant == 7) return std::nanf("");
  const float mag = e == 0 ? std::ldexp(float(mant) / 8.0f, -6) : std::ldexp(1.0f + float(mant) / 8.0f, e - 7);
  return sign ? -mag : mag;
}
}  // namespace

at::Tensor decode_fp8_e4m3(const at::Tensor& bytes) {
  at::Tensor table = at::empty({256}, at::kFloat);
  for (int b = 0; b < 256; ++b) table[b] = fp8_e4m3_value(b);
  return table.index_select(0, bytes.reshape({-1}).to(at::kLong)).view(bytes.sizes());
}

at::Tensor encode_fp8_e4m3(const at::Tensor& values, const std::string& what) {
  // Every finite byte but -0 (0x80): the value -> byte map is then one-to-one. That is 253 bytes
  // (256 less 0x80 and the two NaNs 0x7f / 0xff), every table entry written.
  std::vector<float> finite;
  std::vector<int64_t> bytes;
  for (int b = 0; b < 256; ++b)
    if (b != 0x80 && (b & 0x7f) != 0x7f) finite.push_back(fp8_e4m3_value(b)), bytes.push_back(b);
  const int64_t n = int64_t(finite.size());
  at::Tensor table = at::tensor(finite, at::kFloat), codes = at::tensor(bytes, at::kLong);
  at::Tensor order = std::get<1>(table.sort());
  at::Tensor sorted = table.index_select(0, order), sorted_codes = codes.index_select(0, order);
  at::Tensor v = values.to(at::kCPU, at::kFloat).reshape({-1}).contiguous();
  at::Tensor pos = at::searchsorted(sorted, v).clamp_max(n - 1);
  // Elementwise ==: -0.0 (a rounded tiny negative weight) matches the +0 byte; NaN compares
  // unequal and is refused.
  if (v.numel() > 0 && !at::eq(sorted.index_select(0, pos), v).all().item<bool>())
    throw Error(what + ": values not exactly representable in FP8 E4M3 (or NaN) cannot be stored as F8_E4M3");
  return sorted_codes.index_select(0, pos).to(at::kByte).view(values.sizes());
}

}  // namespace ptq
