#pragma once
// Independent re-implementations, for the tests, of the reference packers and readers of the
// quantized checkpoint formats, written element by element from their Python source (not from
// core/io/quantized_layouts.cpp):
//   AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py: pack() (the `while row < ...` loop
//     with its explicit 3-bit spill-over lines) and forward()'s torch dequantization (wf shifts,
//     the 3-bit `weight[:,0,10] = ...` fix-ups, zeros + 1);
//   AutoAWQ awq/modules/linear/gemm.py from_linear (order_map [0, 2, 4, 6, 1, 3, 5, 7]) and
//     awq/utils/packing_utils.py unpack_awq + reverse_awq_order + dequantize_gemm;
//   compressed-tensors pack_quantized.py pack_to_int32 / unpack_from_int32 and
//     quantization/lifecycle/forward.py dequantize ((x_q − zero_point) · scale).
// Plain loops over std::vector<uint32_t>: slow, but only run on the tests' small layers.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace ptq::reference {

// AutoGPTQ pack(): intweight [rows = in, cols = out] (uint32) -> qweight [in/32*bits, out].
inline std::vector<uint32_t> autogptq_pack_rows(const std::vector<uint32_t>& iw, int64_t rows, int64_t cols, int bits) {
  const int64_t qrows = rows / 32 * bits;
  std::vector<uint32_t> q(size_t(qrows * cols), 0);
  auto Q = [&](int64_t r, int64_t c) -> uint32_t& { return q[size_t(r * cols + c)]; };
  auto I = [&](int64_t r, int64_t c) { return iw[size_t(r * cols + c)]; };
  int64_t i = 0, row = 0;
  while (row < qrows) {
    for (int64_t c = 0; c < cols; ++c) {
      int64_t ii = i, rr = row;
      if (bits == 2 || bits == 4 || bits == 8) {
        for (int64_t j = ii; j < ii + 32 / bits; ++j) Q(rr, c) |= I(j, c) << (bits * (j - ii));
      } else {  // bits == 3: the loop of pack(), line by line
        for (int64_t j = ii; j < ii + 10; ++j) Q(rr, c) |= I(j, c) << (3 * (j - ii));
        ii += 10;
        Q(rr, c) |= I(ii, c) << 30;
        rr += 1;
        Q(rr, c) |= (I(ii, c) >> 2) & 1;
        ii += 1;
        for (int64_t j = ii; j < ii + 10; ++j) Q(rr, c) |= I(j, c) << (3 * (j - ii) + 1);
        ii += 10;
        Q(rr, c) |= I(ii, c) << 31;
        rr += 1;
        Q(rr, c) |= (I(ii, c) >> 1) & 0x3;
        ii += 1;
        for (int64_t j = ii; j < ii + 10; ++j) Q(rr, c) |= I(j, c) << (3 * (j - ii) + 2);
      }
    }
    i += bits == 3 ? 32 : 32 / bits;
    row += bits == 3 ? 3 : 1;
  }
  return q;
}

// AutoGPTQ's qzeros loop packs columns the same way: transpose, pack rows, transpose back.
inline std::vector<uint32_t> transpose(const std::vector<uint32_t>& v, int64_t rows, int64_t cols) {
  std::vector<uint32_t> t(v.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[size_t(c * rows + r)] = v[size_t(r * cols + c)];
  return t;
}

// qlinear_cuda_old.py forward(): the values of a packed [rows/32*bits, cols] tensor along its rows.
inline std::vector<uint32_t> autogptq_unpack_rows(const std::vector<uint32_t>& q, int64_t rows, int64_t cols, int bits) {
  std::vector<uint32_t> out(size_t(rows * cols));
  const uint32_t mask = (1u << bits) - 1;
  for (int64_t c = 0; c < cols; ++c) {
    if (bits != 3) {
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t per = 32 / bits;
        out[size_t(r * cols + c)] = (q[size_t((r / per) * cols + c)] >> (bits * (r % per))) & mask;
      }
      continue;
    }
    // wf = [[0,3,...,30,0],[0,1,4,...,31],[0,2,5,...,29,0]]; w[0][10], w[1][11] fixed up; cat.
    static const int wf[3][12] = {{0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0},
                                  {0, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31},
                                  {0, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0}};
    for (int64_t blk = 0; blk < rows / 32; ++blk) {
      uint32_t w[3][12];
      for (int k = 0; k < 3; ++k)
        for (int j = 0; j < 12; ++j) w[k][j] = (q[size_t((blk * 3 + k) * cols + c)] >> wf[k][j]) & 0x7;
      w[0][10] = (w[0][10] & 0x3) | ((w[1][0] << 2) & 0x4);
      w[1][11] = (w[1][11] & 0x1) | ((w[2][0] << 1) & 0x6);
      std::vector<uint32_t> vals;
      for (int j = 0; j < 11; ++j) vals.push_back(w[0][j]);
      for (int j = 1; j < 12; ++j) vals.push_back(w[1][j]);
      for (int j = 1; j < 11; ++j) vals.push_back(w[2][j]);
      for (int j = 0; j < 32; ++j) out[size_t((blk * 32 + j) * cols + c)] = vals[size_t(j)];
    }
  }
  return out;
}

// AutoAWQ from_linear: intweight [rows, cols] -> [rows, cols/8] with order_map.
inline std::vector<uint32_t> awq_pack(const std::vector<uint32_t>& iw, int64_t rows, int64_t cols) {
  static const int order_map[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  std::vector<uint32_t> q(size_t(rows * cols / 8), 0);
  for (int64_t col = 0; col < cols / 8; ++col)
    for (int i = 0; i < 8; ++i)
      for (int64_t r = 0; r < rows; ++r) q[size_t(r * (cols / 8) + col)] |= iw[size_t(r * cols + col * 8 + order_map[i])] << (i * 4);
  return q;
}

// packing_utils.py unpack_awq (shifts 0,4,...,28 in order) then reverse_awq_order
// (AWQ_REVERSE_ORDER [0, 4, 1, 5, 2, 6, 3, 7] applied within each 8).
inline std::vector<uint32_t> awq_unpack(const std::vector<uint32_t>& q, int64_t rows, int64_t words) {
  static const int reverse[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  std::vector<uint32_t> out(size_t(rows * words * 8));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t w = 0; w < words; ++w) {
      uint32_t raw[8];
      for (int s = 0; s < 8; ++s) raw[s] = (q[size_t(r * words + w)] >> (4 * s)) & 0xF;
      for (int j = 0; j < 8; ++j) out[size_t(r * words * 8 + w * 8 + j)] = raw[reverse[j]];
    }
  return out;
}

// compressed-tensors pack_to_int32(value int8, num_bits, packed_dim=1): offset, pad, OR in.
inline std::vector<uint32_t> ct_pack_dim1(const std::vector<int>& signed_vals, int64_t rows, int64_t cols, int bits) {
  const int offset = 1 << (bits - 1), pf = 32 / bits;
  const int64_t words = (cols + pf - 1) / pf;
  std::vector<uint32_t> q(size_t(rows * words), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      q[size_t(r * words + c / pf)] |= uint32_t(uint8_t(signed_vals[size_t(r * cols + c)] + offset)) << (bits * (c % pf));
  return q;
}
// unpack_from_int32(packed_dim=0): values [rows, cols] from [ceil(rows/pf), cols], minus offset.
inline std::vector<int> ct_unpack_dim0(const std::vector<uint32_t>& q, int64_t rows, int64_t cols, int bits) {
  const int offset = 1 << (bits - 1), pf = 32 / bits;
  const uint32_t mask = (1u << bits) - 1;
  std::vector<int> out(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[size_t(r * cols + c)] = int((q[size_t((r / pf) * cols + c)] >> (bits * (r % pf))) & mask) - offset;
  return out;
}
inline std::vector<int> ct_unpack_dim1(const std::vector<uint32_t>& q, int64_t rows, int64_t cols, int bits) {
  const int offset = 1 << (bits - 1), pf = 32 / bits;
  const int64_t words = (cols + pf - 1) / pf;
  const uint32_t mask = (1u << bits) - 1;
  std::vector<int> out(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[size_t(r * cols + c)] = int((q[size_t(r * words + c / pf)] >> (bits * (c % pf))) & mask) - offset;
  return out;
}

// Tensor <-> vector helpers (int32 tensors viewed as uint32, like numpy's astype/view).
inline std::vector<uint32_t> words_of(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU).contiguous();
  std::vector<uint32_t> v(size_t(c.numel()));
  if (c.scalar_type() == at::kInt) {
    const int32_t* p = c.data_ptr<int32_t>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = uint32_t(p[i]);
  } else {
    at::Tensor l = c.to(at::kLong);
    const int64_t* p = l.data_ptr<int64_t>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = uint32_t(p[i]);
  }
  return v;
}
inline at::Tensor int32_tensor(const std::vector<uint32_t>& v, int64_t rows, int64_t cols) {
  at::Tensor t = at::empty({rows, cols}, at::kInt);
  int32_t* p = t.data_ptr<int32_t>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = int32_t(v[i]);
  return t;
}

}  // namespace ptq::reference
