#include "quant/formats/quantizer.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "core/runtime/errors.h"
#include "quant/formats/number_formats.h"
#include "quant/methods/quip/incoherence.h"

namespace ptq {

namespace {

// NormalFloat-4 codebook of QLoRA / bitsandbytes (create_normal_map), sorted.
const float kNF4[16] = {-1.0f,
                        -0.6961928009986877f,
                        -0.5250730514526367f,
                        -0.39491748809814453f,
                        -0.28444138169288635f,
                        -0.18477343022823334f,
                        -0.09105003625154495f,
                        0.0f,
                        0.07958029955625534f,
                        0.16093020141124725f,
                        0.24611230194568634f,
                        0.33791524171829224f,
                        0.44070982933044434f,
                        0.5626170039176941f,
                        0.7229568362236023f,
                        1.0f};

// A small IEEE-like float format with subnormals and saturation (no inf): E2M1 (FP4),
// E4M3 (OCP "fn": max 448, the all-ones pattern is NaN) and E5M2 (max 57344, exponent 31
// is inf/NaN). A positive value's pattern p = (exponent field << mbits) | mantissa is
// monotone in the value, so the sorted grid index of ±v is npos ± p.
struct MiniFloat {
  int mbits;
  int bias;
  double maxv;
  int npos;  // number of positive representable values (= pattern of maxv)
  int emin() const { return 1 - bias; }
};

const MiniFloat& minifloat(WeightFormat f) {
  static const MiniFloat fp4{1, 1, 6.0, 7};
  static const MiniFloat e4m3{3, 7, 448.0, 126};
  static const MiniFloat e5m2{2, 15, 57344.0, 123};
  switch (element_format(f)) {  // the block formats' elements: MXFP4 / NVFP4 E2M1, MXFP8 E4M3
    case WeightFormat::FP4: return fp4;
    case WeightFormat::FP8_E4M3: return e4m3;
    case WeightFormat::FP8_E5M2: return e5m2;
    default: throw Error("internal: " + format_name(f) + " is not a minifloat format");
  }
}

// Value of positive pattern p (exact, in double).
double minifloat_value(const MiniFloat& m, int p) {
  const int e_field = p >> m.mbits, mant = p & ((1 << m.mbits) - 1);
  if (e_field == 0) return std::ldexp(static_cast<double>(mant), m.emin() - m.mbits);
  return std::ldexp(static_cast<double>((1 << m.mbits) + mant), e_field - m.bias - m.mbits);
}

const std::vector<float>& grid_values(WeightFormat f) {
  static const std::vector<float> nf4(kNF4, kNF4 + 16);
  static const auto build = [](WeightFormat fmt) {
    const MiniFloat& m = minifloat(fmt);
    std::vector<float> g(2 * m.npos + 1);
    for (int p = m.npos; p >= 0; --p) {  // p = 0 last: the centre is +0, not -0
      const float v = static_cast<float>(minifloat_value(m, p));
      g[m.npos - p] = -v;
      g[m.npos + p] = v;
    }
    return g;
  };
  static const std::vector<float> fp4 = build(WeightFormat::FP4);
  static const std::vector<float> e4m3 = build(WeightFormat::FP8_E4M3);
  static const std::vector<float> e5m2 = build(WeightFormat::FP8_E5M2);
  switch (element_format(f)) {
    case WeightFormat::NF4: return nf4;
    case WeightFormat::FP4: return fp4;
    case WeightFormat::FP8_E4M3: return e4m3;
    case WeightFormat::FP8_E5M2: return e5m2;
    default: throw Error("format 'int' has no codebook grid");
  }
}

void check_matrix(const at::Tensor& t, const char* what) {
  if (!t.defined()) throw Error(std::string(what) + ": tensor is undefined");
  if (t.dim() != 2)
    throw Error(std::string(what) + ": expected a 2-D tensor [rows, cols], got " +
                std::to_string(t.dim()) + " dims");
}

// Views x[rows, cols] as [rows, g, cols/g] and params t[rows, g] as [rows, g, 1].
at::Tensor grouped(const at::Tensor& x, const at::Tensor& t, at::Tensor* t3, const char* what) {
  check_matrix(x, what);
  if (t.dim() != 2 || t.size(0) != x.size(0))
    throw Error(std::string(what) + ": params must be [" + std::to_string(x.size(0)) +
                ", n_groups], got " + std::to_string(t.dim()) + "-D with " +
                std::to_string(t.dim() ? t.size(0) : 0) + " rows");
  const int64_t g = t.size(1);
  if (g <= 0 || x.size(1) % g != 0)
    throw Error(std::string(what) + ": " + std::to_string(g) + " groups do not divide " +
                std::to_string(x.size(1)) + " columns");
  *t3 = t.to(at::kFloat).unsqueeze(2);
  return x.reshape({x.size(0), g, x.size(1) / g});
}

}  // namespace


double format_max(WeightFormat f) {
  if (f == WeightFormat::NF4) return 1.0;
  return minifloat(f).maxv;
}

at::Tensor format_grid(WeightFormat f, at::Device dev) {
  const std::vector<float>& g = grid_values(f);
  auto t = at::tensor(g, at::TensorOptions().dtype(at::kFloat));
  return dev.is_cpu() ? t : t.to(dev);
}

QuantParams find_params(const at::Tensor& w, const QuantSpec& s) { return find_params(w, s, at::Tensor()); }

QuantParams find_params(const at::Tensor& w, const QuantSpec& s, const at::Tensor& nv_global_amax) {
  check_matrix(w, "find_params");
  if (w.size(1) == 0) throw Error("find_params: slice has no columns");
  if (!at::isFloatingType(w.scalar_type()))
    throw Error("find_params: expected a floating-point tensor");
  const at::Tensor x = w.detach().to(at::kFloat);
  QuantParams p;
  if (s.format == WeightFormat::Int) {
    const double maxq = std::ldexp(1.0, s.bits) - 1.0;
    // The range always includes 0 (gptq quant.py).
    at::Tensor xmin = at::clamp_max(x.amin(1), 0.0);
    at::Tensor xmax = at::clamp_min(x.amax(1), 0.0);
    if (s.symmetric) {
      // Project convention: always ±max|w|. gptq keeps xmin=0 for an all-nonnegative row
      // (halving its range); identical whenever the row has a negative entry.
      xmax = at::maximum(-xmin, xmax);
      xmin = -xmax;
    }
    const at::Tensor dead = (xmin == 0) & (xmax == 0);  // all-zero: use [-1, +1]
    xmin = at::where(dead, at::full_like(xmin, -1.0), xmin);
    xmax = at::where(dead, at::full_like(xmax, 1.0), xmax);
    if (s.clip_ratio != 1.0) {  // gptq's mse grid: xmin1 = p*xmin, xmax1 = p*xmax
      xmin = xmin * s.clip_ratio;
      xmax = xmax * s.clip_ratio;
    }
    if (s.symmetric && s.absmax_sym) {  // SmoothQuant: scales.clamp_(min=1e-5).div_(q_max), zero 2^(b-1)
      const double qmax = std::ldexp(1.0, s.bits - 1) - 1.0;
      at::Tensor amax = at::maximum(x.abs().amax(1) * s.clip_ratio, at::scalar_tensor(1e-5, x.options()));
      p.scale = (amax / at::scalar_tensor(qmax, x.options())).unsqueeze(1);
      p.zero = at::full_like(p.scale, std::ldexp(1.0, s.bits - 1));
      return p;
    }
    // Divide by a 0-dim tensor on x's device, as gptq does with its maxq buffer: a CPU
    // scalar divisor makes CUDA multiply by the reciprocal (1-ulp differences vs CPU).
    p.scale = (xmax - xmin) / at::scalar_tensor(maxq, x.options());
    p.zero = s.symmetric ? at::full_like(p.scale, std::ldexp(1.0, s.bits - 1))
                         : at::round(-xmin / p.scale);
    p.zero = p.zero.unsqueeze(1);
  } else if (format_block_size(s.format) > 0) {  // MX / NV block scales (number_formats.h)
    at::Tensor amax = x.abs().amax(1);
    if (s.clip_ratio != 1.0) amax = amax * s.clip_ratio;
    p.scale = block_scale(amax, s.format, nv_global_amax.defined() ? nv_global_amax : amax.amax());
  } else {
    at::Tensor amax = x.abs().amax(1);
    amax = at::where(amax == 0, at::ones_like(amax), amax);
    if (s.clip_ratio != 1.0) amax = amax * s.clip_ratio;
    p.scale = amax / at::scalar_tensor(format_max(s.format), x.options());
  }
  p.scale = p.scale.unsqueeze(1);
  return p;
}

void quantize_dequantize(const at::Tensor& w, const QuantParams& p, const QuantSpec& s,
                         at::Tensor* codes, at::Tensor* deq) {
  at::Tensor scale;
  const at::Tensor x = grouped(w.detach().to(at::kFloat), p.scale, &scale, "quantize");
  const auto rows = w.size(0), cols = w.size(1);
  const at::Tensor y = x / scale;  // the same division in RTN and in GPTQ's column loop
  at::Tensor c, v;                 // codes (as float) and dequantized values
  if (s.format == WeightFormat::Int) {
    if (!p.zero.defined()) throw Error("quantize: Int format needs zero points");
    at::Tensor zero;
    grouped(w, p.zero, &zero, "quantize");
    const double maxq = std::ldexp(1.0, s.bits) - 1.0;
    c = at::clamp(at::round(y) + zero, 0.0, maxq);
    if (deq) v = scale * (c - zero);
  } else if (s.format == WeightFormat::NF4) {
    const at::Tensor g = format_grid(s.format, w.device());
    const at::Tensor mids = (g.slice(0, 1) + g.slice(0, 0, -1)) * 0.5;
    const at::Tensor idx = at::searchsorted(mids, y.contiguous());  // nearest value
    c = idx;
    if (deq) v = g.index_select(0, idx.reshape({-1})).view(y.sizes()) * scale;
  } else {
    // Round to the nearest minifloat: exponent from frexp (exact), floored at emin so small
    // values fall on the subnormal grid; the mantissa is rounded half-to-even at mbits;
    // magnitudes saturate at max (no inf).
    // The value from round_to_minifloat (number_formats.h: RNE, subnormals, saturation); its
    // pattern p = (e - emin)·2^mbits + r/step from the rounded value's binade e (>= emin).
    const MiniFloat& m = minifloat(s.format);
    const double tiny = std::ldexp(1.0, m.emin());
    const at::Tensor r = round_to_minifloat(y, s.format).abs();
    const at::Tensor r_exp = at::clamp_min(r, tiny);
    const auto fr = at::frexp(r_exp);                        // r_exp = mant * 2^E
    const at::Tensor pow2 = r_exp / std::get<0>(fr) * 0.5;  // 2^floor(log2 r), exact
    const at::Tensor step = pow2 * std::ldexp(1.0, -m.mbits);
    const at::Tensor e = std::get<1>(fr).to(at::kFloat) - 1.0;
    const at::Tensor pat = (e - m.emin()) * std::ldexp(1.0, m.mbits) + r / step;
    const at::Tensor neg = y < 0;
    c = at::where(neg, m.npos - pat, m.npos + pat);
    if (deq) v = at::where(neg, -r, r) * scale;
  }
  if (codes) *codes = c.to(at::kByte).reshape({rows, cols});
  if (deq) *deq = v.reshape({rows, cols});
}

at::Tensor quantize_codes(const at::Tensor& w, const QuantParams& p, const QuantSpec& s) {
  at::Tensor c;
  quantize_dequantize(w, p, s, &c, nullptr);
  return c;
}

at::Tensor dequantize_codes(const at::Tensor& codes, const QuantParams& p, const QuantSpec& s) {
  at::Tensor scale;
  const at::Tensor c = grouped(codes, p.scale, &scale, "dequantize");
  at::Tensor v;
  if (s.format == WeightFormat::Int) {
    if (!p.zero.defined()) throw Error("dequantize: Int format needs zero points");
    at::Tensor zero;
    grouped(codes, p.zero, &zero, "dequantize");
    v = scale * (c.to(at::kFloat) - zero);
  } else {
    const at::Tensor g = format_grid(s.format, codes.device());
    const at::Tensor idx = c.to(at::kLong).reshape({-1});
    if (idx.numel() > 0 && idx.max().item<int64_t>() >= g.numel())
      throw Error("dequantize: code out of range for " + format_name(s.format));
    v = g.index_select(0, idx).view(c.sizes()) * scale;
  }
  return v.reshape(codes.sizes());
}

namespace {

// OWQ's implied grouping: the columns not kept, in order, in groups of the group size.
at::Tensor implied_group_index(int64_t in, const at::Tensor& kept, const QuantSpec& s) {
  std::vector<int64_t> gi(size_t(in), 0);
  std::vector<char> is_kept(size_t(in), 0);
  const at::Tensor k = kept.to(at::kCPU, at::kLong).contiguous();
  for (int64_t i = 0; i < k.numel(); ++i) {
    const int64_t c = k.data_ptr<int64_t>()[i];
    if (c < 0 || c >= in) throw Error("QuantizedWeight: kept column " + std::to_string(c) + " out of range");
    is_kept[size_t(c)] = 1;
  }
  const int64_t G = s.group_size > 0 ? s.group_size : in;
  int64_t pos = 0;
  for (int64_t c = 0; c < in; ++c)
    if (!is_kept[size_t(c)]) gi[size_t(c)] = pos++ / G;
  return at::tensor(gi, at::kLong);
}

}  // namespace

at::Tensor QuantizedWeight::dequantize() const {
  if (values.defined()) return values.to(at::kFloat);
  if (!codes.defined() || !scales.defined()) throw Error("QuantizedWeight: empty");
  if (axis0_out > 0) {
    QuantizedWeight rest = *this;
    rest.axis0_out = 0;
    const at::Tensor x = rest.dequantize();  // [out·in/G, G]
    return x.t().reshape({axis0_out, x.numel() / axis0_out});
  }
  if (!incoherence.empty()) {
    QuantizedWeight rest = *this;
    rest.incoherence.clear();
    rest.col_scale = at::Tensor();
    const at::Tensor w = rest.dequantize();
    const at::Tensor U = incoherence_matrix(incoherence, w.size(0), incoherence_side_seed(incoherence_seed, 0));
    const at::Tensor V = incoherence_matrix(incoherence, w.size(1), incoherence_side_seed(incoherence_seed, 1));
    at::Tensor out = U.to(w.device()).t().matmul(w).matmul(V.to(w.device()));
    return col_scale.defined() ? out / col_scale.to(w.device(), at::kFloat).unsqueeze(0) : out;
  }
  if (kept_columns.defined()) {
    QuantizedWeight rest = *this;
    rest.kept_columns = rest.kept_values = at::Tensor();
    if (!g_idx.defined()) rest.g_idx = implied_group_index(codes.size(1), kept_columns, spec).to(codes.device());
    at::Tensor w = rest.dequantize();
    w.index_copy_(1, kept_columns.to(w.device(), at::kLong), kept_values.to(w.device(), at::kFloat));
    return w;
  }
  if (!g_idx.defined()) return dequantize_codes(codes, QuantParams{scales, zeros}, spec);
  if (g_idx.dim() != 1 || g_idx.size(0) != codes.size(1))
    throw Error("QuantizedWeight: g_idx must have one entry per input column");
  // Expand params to one "group" per element column.
  const at::Tensor gi = g_idx.to(at::kLong);
  QuantParams full{scales.index_select(1, gi),
                   zeros.defined() ? zeros.index_select(1, gi) : at::Tensor()};
  return dequantize_codes(codes, full, spec);
}

int64_t QuantizedWeight::storage_bytes(int scale_bytes) const {
  if (values.defined()) return packed_bytes;
  if (!codes.defined() || !scales.defined()) return 0;
  const int64_t b = spec.element_bits();
  const int64_t kept = kept_columns.defined() ? kept_columns.numel() : 0;
  const int64_t n_codes = codes.numel() - (kept ? kept * codes.size(0) : 0), n_params = scales.numel();
  const bool block = format_block_size(spec.format) > 0;  // E8M0 / E4M3 scales: one byte
  int64_t bytes = (n_codes * b + 7) / 8 + n_params * (block ? 1 : scale_bytes);
  if (spec.format == WeightFormat::NVFP4) bytes += 4;  // the FP32 global scale
  if (spec.format == WeightFormat::Int && !spec.symmetric)
    bytes += zero_bytes > 0 ? n_params * zero_bytes : (n_params * b + 7) / 8;
  if (g_idx.defined()) bytes += g_idx.numel() * 4;
  if (kept) bytes += kept_values.numel() * 2 + kept * 4;
  if (!incoherence.empty()) bytes += 8 + (col_scale.defined() ? col_scale.numel() * 2 : 0);
  return bytes;
}

QuantizedWeight quantize_weight(const at::Tensor& w, const QuantSpec& s) {
  check_matrix(w, "quantize_weight");
  const int64_t out = w.size(0), in = w.size(1);
  s.validate(in);
  const int64_t ng = s.n_groups(in), gs = s.effective_group(in);
  const at::Tensor x = w.detach().to(at::kFloat);
  QuantParams flat = find_params(x.reshape({out * ng, gs}), s, x.abs().amax());  // one row per group
  QuantParams p{flat.scale.reshape({out, ng}),
                flat.zero.defined() ? flat.zero.reshape({out, ng}) : at::Tensor()};
  QuantizedWeight q;
  q.spec = s;
  q.codes = quantize_codes(x, p, s);
  q.scales = p.scale;
  q.zeros = p.zero;
  return q;
}

at::Tensor fake_quantize(const at::Tensor& w, const QuantSpec& s) {
  if (!w.defined() || w.dim() < 1) throw Error("fake_quantize: expected a tensor with dims");
  const int64_t in = w.size(-1);
  const at::Tensor x = w.detach().to(at::kFloat).reshape({-1, in});
  s.validate(in);
  const int64_t rows = x.size(0), ng = s.n_groups(in), gs = s.effective_group(in);
  QuantParams flat = find_params(x.reshape({rows * ng, gs}), s, x.abs().amax());
  QuantParams p{flat.scale.reshape({rows, ng}),
                flat.zero.defined() ? flat.zero.reshape({rows, ng}) : at::Tensor()};
  at::Tensor deq;
  quantize_dequantize(x, p, s, nullptr, &deq);
  return deq.reshape(w.sizes()).to(w.scalar_type());
}

}  // namespace ptq
