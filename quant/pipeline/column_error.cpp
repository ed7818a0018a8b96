#include "quant/pipeline/column_error.h"

#include <cstring>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int alphabet_index(char c) {
  const char* p = std::strchr(kAlphabet, c);
  return c != '\0' && p ? int(p - kAlphabet) : -1;
}

}  // namespace

std::vector<float> column_relative_error(const at::Tensor& W, const at::Tensor& Wq) {
  if (W.dim() != 2 || W.sizes() != Wq.sizes()) throw Error("column error needs two weights [out, in] of equal shape");
  at::Tensor w = W.to(at::kFloat), q = Wq.to(w.device(), at::kFloat);
  at::Tensor e = ((w - q).norm(2, {0}) / w.norm(2, {0}).clamp_min(1e-30)).to(at::kCPU).contiguous();
  return std::vector<float>(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
}

std::string encode_float16_base64(const std::vector<float>& v) {
  at::Tensor h = at::from_blob(const_cast<float*>(v.data()), {int64_t(v.size())}, at::kFloat).to(at::kHalf).contiguous();
  std::string bytes(v.size() * 2, '\0');
  if (!v.empty()) std::memcpy(&bytes[0], h.data_ptr(), bytes.size());  // x86-64 / aarch64: little-endian
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t x = uint32_t(uint8_t(bytes[i])) << 16;
    if (n > 1) x |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    if (n > 2) x |= uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(x >> 18) & 63];
    out += kAlphabet[(x >> 12) & 63];
    out += n > 1 ? kAlphabet[(x >> 6) & 63] : '=';
    out += n > 2 ? kAlphabet[x & 63] : '=';
  }
  return out;
}

std::vector<float> decode_float16_base64(const std::string& s) {
  if (s.size() % 4 != 0) throw Error("float16 base64 string has a length that is not a multiple of 4");
  std::string bytes;
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t x = 0;
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i + size_t(k)];
      const int d = c == '=' && i + 4 == s.size() && k >= 2 ? 0 : alphabet_index(c);
      if (d < 0) throw Error("float16 base64 string has an invalid character at " + std::to_string(i + size_t(k)));
      pad += c == '=';
      x = (x << 6) | uint32_t(d);
    }
    bytes += char((x >> 16) & 255);
    if (pad < 2) bytes += char((x >> 8) & 255);
    if (pad < 1) bytes += char(x & 255);
  }
  if (bytes.size() % 2 != 0) throw Error("float16 base64 string holds an odd number of bytes");
  at::Tensor h = at::empty({int64_t(bytes.size() / 2)}, at::kHalf);
  if (!bytes.empty()) std::memcpy(h.data_ptr(), bytes.data(), bytes.size());
  at::Tensor f = h.to(at::kFloat).contiguous();
  return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

}  // namespace ptq
