#include "quant/methods/rotation/hadamard.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/runtime/errors.h"
#include "quant/methods/rotation/hadamard_tables.h"

namespace ptq {

namespace {

constexpr double kPi = 3.14159265358979323846;

bool is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

bool is_prime(int64_t q) {
  if (q < 2) return false;
  for (int64_t d = 2; d * d <= q; ++d)
    if (q % d == 0) return false;
  return true;
}

// Paley I needs K = q+1, q ≡ 3 (mod 4) prime; Paley II needs K = 2(q+1), q ≡ 1 (mod 4) prime.
int64_t paley1_q(int64_t K) { return K >= 4 && is_prime(K - 1) && (K - 1) % 4 == 3 ? K - 1 : 0; }
int64_t paley2_q(int64_t K) { return K >= 4 && K % 2 == 0 && is_prime(K / 2 - 1) && (K / 2 - 1) % 4 == 1 ? K / 2 - 1 : 0; }

const HadamardTable* quarot_table(int64_t K) {
  for (const auto& t : quarot_hadamard_tables())
    if (t.order == K) return &t;
  return nullptr;
}

bool has_base(int64_t K) { return K == 1 || quarot_table(K) || paley1_q(K) || paley2_q(K); }

// Quadratic character modulo prime q, as a table: chi[a] = 0, +1 (nonzero square) or -1.
std::vector<int> quadratic_character(int64_t q) {
  std::vector<int> chi(size_t(q), -1);
  chi[0] = 0;
  for (int64_t x = 1; x < q; ++x) chi[size_t((x * x) % q)] = 1;
  return chi;
}

// Paley I, q ≡ 3 (mod 4): H = I + [[0, 1ᵀ], [-1, Q]], Q[i][j] = chi(j - i). Row-major, order q+1.
std::vector<double> paley1(int64_t q) {
  const int64_t K = q + 1;
  const std::vector<int> chi = quadratic_character(q);
  std::vector<double> h(size_t(K * K));
  for (int64_t i = 0; i < K; ++i)
    for (int64_t j = 0; j < K; ++j) {
      double s;
      if (i == 0) s = j == 0 ? 0 : 1;
      else if (j == 0) s = -1;
      else s = chi[size_t(((j - i) % q + q) % q)];
      h[size_t(i * K + j)] = s + (i == j ? 1 : 0);
    }
  return h;
}

// Paley II, q ≡ 1 (mod 4): C = [[0, 1ᵀ], [1, Q]] (a symmetric conference matrix); each 0 becomes
// [[1,-1],[-1,-1]] and each ±1 becomes ±[[1,1],[1,-1]]. Row-major, order 2(q+1).
std::vector<double> paley2(int64_t q) {
  const int64_t c = q + 1, K = 2 * c;
  const std::vector<int> chi = quadratic_character(q);
  std::vector<double> h(size_t(K * K));
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const int e = (i == 0 && j == 0) ? 0 : (i == 0 || j == 0) ? 1 : chi[size_t(((j - i) % q + q) % q)];
      const double blk[2][2] = {{e == 0 ? 1.0 : e, e == 0 ? -1.0 : e},
                                {e == 0 ? -1.0 : e, e == 0 ? -1.0 : -e}};
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) h[size_t((2 * i + a) * K + 2 * j + b)] = blk[a][b];
    }
  return h;
}

std::vector<double> decode_table(const HadamardTable& t) {
  const int64_t K = t.order, digits = (K + 3) / 4;
  std::vector<double> h(size_t(K * K));
  for (int64_t i = 0; i < K; ++i)
    for (int64_t j = 0; j < K; ++j) {
      const char c = t.hex[i * digits + j / 4];
      const int v = c <= '9' ? c - '0' : c - 'a' + 10;
      h[size_t(i * K + j)] = (v >> (3 - j % 4)) & 1 ? 1.0 : -1.0;
    }
  return h;
}

std::string unsupported_message(int64_t n) {
  int64_t o = n, e = 0;
  while (o > 0 && o % 2 == 0) o /= 2, ++e;
  return "Hadamard size " + std::to_string(n) + (n > 0 ? " = " + std::to_string(o) + "·2^" + std::to_string(e) : "") +
         " is not supported: no Hadamard matrix of order " + std::to_string(o) +
         "·2^j is known here (QuaRot's tables 12, 20, 28, 36, 40, 52, 60, 108, 140, 156, 172; Paley I, order q+1 "
         "for a prime q ≡ 3 mod 4; Paley II, order 2(q+1) for a prime q ≡ 1 mod 4; or a power of two)";
}

at::Tensor build_base(int64_t K) {  // float64, unnormalized
  std::vector<double> v;
  if (K == 1) v = {1.0};
  else if (const HadamardTable* t = quarot_table(K)) v = decode_table(*t);
  else if (int64_t q = paley1_q(K)) v = paley1(q);
  else if (int64_t q2 = paley2_q(K)) v = paley2(q2);
  else throw Error("no Hadamard base matrix of order " + std::to_string(K) + " (" + unsupported_message(K) + ")");
  return at::tensor(v, at::TensorOptions().dtype(at::kDouble)).view({K, K});
}

at::Tensor base_matrix(int64_t K) {  // cached: the online transform asks for it on every forward
  static std::mutex mu;
  static std::map<int64_t, at::Tensor> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(K);
  if (it == cache.end()) it = cache.emplace(K, build_base(K)).first;
  return it->second;
}

at::Tensor sylvester(int64_t n) {  // float64, unnormalized, S[i][j] = (-1)^popcount(i&j)
  std::vector<double> v(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int parity = 0;
      for (uint64_t b = static_cast<uint64_t>(i & j); b; b &= b - 1) parity ^= 1;
      v[i * n + j] = parity ? -1.0 : 1.0;
    }
  return at::tensor(v, at::TensorOptions().dtype(at::kDouble)).view({n, n});
}

void check_supported(int64_t n) {
  if (!hadamard_supported(n)) throw Error(unsupported_message(n));
}

// splitmix64: small, well-mixed, and identical everywhere.
struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }  // (0,1)
};

}  // namespace

int64_t hadamard_base_order(int64_t n) {
  if (n <= 0) return 0;
  if (is_pow2(n)) return 1;
  for (int64_t K : quarot_hadamard_search_order())  // QuaRot get_hadK: the first K dividing n
    if (n % K == 0) {
      if (is_pow2(n / K)) return K;
      break;  // QuaRot's assert fails here; look further below
    }
  int64_t o = n, e = 0;
  while (o % 2 == 0) o /= 2, ++e;
  for (int64_t j = 2; j <= e; ++j)  // the smallest base K = o·2^j (a multiple of 4) that exists
    if (has_base(o << j)) return o << j;
  return 0;
}

bool hadamard_supported(int64_t n) { return hadamard_base_order(n) != 0; }

std::string hadamard_base_source(int64_t K) {
  if (K == 1) return "sylvester";
  if (quarot_table(K)) return "quarot get_had" + std::to_string(K);
  if (int64_t q = paley1_q(K)) return "paley I q=" + std::to_string(q);
  if (int64_t q = paley2_q(K)) return "paley II q=" + std::to_string(q);
  throw Error("no Hadamard base matrix of order " + std::to_string(K));
}

at::Tensor hadamard_base_matrix(int64_t K) { return base_matrix(K).clone(); }

at::Tensor hadamard_matrix(int64_t n, at::ScalarType dt) {
  check_supported(n);
  const int64_t K = hadamard_base_order(n);
  at::Tensor h = sylvester(n / K);
  if (K > 1) h = at::kron(base_matrix(K).t().contiguous(), h);
  return (h / std::sqrt(static_cast<double>(n))).to(dt);
}

at::Tensor random_hadamard(int64_t n, uint64_t seed) {
  if (n <= 0) throw Error("random_hadamard: size must be positive, got " + std::to_string(n));
  SplitMix64 rng{seed};
  if (hadamard_supported(n)) {
    std::vector<double> s(n);
    for (auto& v : s) v = (rng.next() >> 63) ? -1.0 : 1.0;
    const at::Tensor sign = at::tensor(s, at::TensorOptions().dtype(at::kDouble));
    return (hadamard_matrix(n, at::kDouble) * sign.unsqueeze(0)).to(at::kFloat);
  }
  return haar_orthogonal64(n, seed).to(at::kFloat);  // fallback: a fresh stream of the same seed
}

at::Tensor haar_orthogonal64(int64_t n, uint64_t seed) {
  if (n <= 0) throw Error("haar_orthogonal64: size must be positive, got " + std::to_string(n));
  SplitMix64 rng{seed};
  std::vector<double> g(n * n);
  for (int64_t i = 0; i < n * n; i += 2) {  // Box–Muller, two normals per pair of uniforms
    const double r = std::sqrt(-2.0 * std::log(rng.uniform())), t = 2.0 * kPi * rng.uniform();
    g[i] = r * std::cos(t);
    if (i + 1 < n * n) g[i + 1] = r * std::sin(t);
  }
  const at::Tensor a = at::tensor(g, at::TensorOptions().dtype(at::kDouble)).view({n, n});
  auto qr = at::linalg_qr(a, "reduced");
  at::Tensor d = at::sign(std::get<1>(qr).diagonal());
  d = at::where(d == 0, at::ones_like(d), d);
  return std::get<0>(qr) * d.unsqueeze(0);
}

at::Tensor fast_hadamard_transform(const at::Tensor& x) {
  if (!x.defined() || x.dim() < 1) throw Error("fast_hadamard_transform: expected a tensor");
  if (!at::isFloatingType(x.scalar_type()))
    throw Error("fast_hadamard_transform: expected a floating-point tensor");
  const int64_t n = x.size(-1);
  check_supported(n);
  const int64_t K = hadamard_base_order(n);
  const at::ScalarType cdt = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const int64_t rows = n ? x.numel() / n : 0;
  at::Tensor cur = x.to(cdt).reshape({rows, n, 1});
  // Butterfly over the 2^m factor (QuaRot matmul_hadU layout): pairs (2j, 2j+1) of the
  // middle dim become the sum / difference blocks of the last dim.
  while (cur.size(1) > K) {
    const int64_t h = cur.size(1) / 2, w = cur.size(2);
    const at::Tensor v = cur.view({rows, h, 2, w});
    const at::Tensor a = v.select(2, 0), b = v.select(2, 1);
    cur = at::stack({a + b, a - b}, 2).view({rows, h, 2 * w});
  }
  // cur[r, a, c] = Σ_j x[r, a·2^m + j] S[j, c]; then x·(Bᵀ ⊗ S) = B · cur (QuaRot: hadK @ input).
  if (K > 1) cur = at::matmul(base_matrix(K).to(cur.options()), cur);
  return (cur.reshape(x.sizes()) / std::sqrt(static_cast<double>(n))).to(x.scalar_type());
}

}  // namespace ptq
