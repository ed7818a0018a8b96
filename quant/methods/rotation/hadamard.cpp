#include "quant/methods/rotation/hadamard.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

constexpr double kPi = 3.14159265358979323846;

bool is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// Base size K of n = K·2^m (1 for a power of two), 0 if unsupported. The largest base that
// fits is taken (12·2^k is also 3·2^(k+2), but only 12, 20, 28 have base matrices).
int64_t base_size(int64_t n) {
  if (is_pow2(n)) return 1;
  for (int64_t k : {28, 20, 12})
    if (n % k == 0 && is_pow2(n / k)) return k;
  return 0;
}

// Quadratic character modulo prime q: 0, +1 (nonzero square) or -1.
int chi(int64_t a, int64_t q) {
  a = ((a % q) + q) % q;
  if (a == 0) return 0;
  for (int64_t x = 1; x < q; ++x)
    if ((x * x) % q == a) return 1;
  return -1;
}

// Row-major ±1 base matrix of order K in {12, 20, 28}.
std::vector<double> paley_base(int64_t K) {
  std::vector<double> h(K * K);
  if (K == 12 || K == 20) {
    // Paley I, q = K-1 ≡ 3 (mod 4): H = I + [[0, 1ᵀ], [-1, Q]], Q[i][j] = chi(j - i).
    const int64_t q = K - 1;
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < K; ++j) {
        double s;
        if (i == 0) s = j == 0 ? 0 : 1;
        else if (j == 0) s = -1;
        else s = chi((j - 1) - (i - 1), q);
        h[i * K + j] = s + (i == j ? 1 : 0);
      }
  } else {
    // Paley II, q = 13 ≡ 1 (mod 4): C = [[0, 1ᵀ], [1, Q]] (symmetric conference matrix);
    // each 0 becomes [[1,-1],[-1,-1]] and each ±1 becomes ±[[1,1],[1,-1]].
    const int64_t q = K / 2 - 1, c = q + 1;
    for (int64_t i = 0; i < c; ++i)
      for (int64_t j = 0; j < c; ++j) {
        const int e = (i == 0 && j == 0) ? 0 : (i == 0 || j == 0) ? 1 : chi((j - 1) - (i - 1), q);
        const double blk[2][2] = {{e == 0 ? 1.0 : e, e == 0 ? -1.0 : e},
                                  {e == 0 ? -1.0 : e, e == 0 ? -1.0 : -e}};
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) h[(2 * i + a) * K + 2 * j + b] = blk[a][b];
      }
  }
  return h;
}

at::Tensor base_matrix(int64_t K) {  // float64, unnormalized
  auto v = paley_base(K);
  return at::tensor(v, at::TensorOptions().dtype(at::kDouble)).view({K, K});
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
  if (!hadamard_supported(n))
    throw Error("Hadamard size " + std::to_string(n) +
                " is not supported (need 2^k, 12·2^k, 20·2^k or 28·2^k)");
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

bool hadamard_supported(int64_t n) { return base_size(n) != 0; }

at::Tensor hadamard_matrix(int64_t n, at::ScalarType dt) {
  check_supported(n);
  const int64_t K = base_size(n);
  at::Tensor h = sylvester(n / K);
  if (K > 1) h = at::kron(base_matrix(K), h);
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
  // Fallback: Haar-random orthogonal matrix (QR of a Gaussian, sign-fixed).
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
  return (std::get<0>(qr) * d.unsqueeze(0)).to(at::kFloat);
}

at::Tensor fast_hadamard_transform(const at::Tensor& x) {
  if (!x.defined() || x.dim() < 1) throw Error("fast_hadamard_transform: expected a tensor");
  if (!at::isFloatingType(x.scalar_type()))
    throw Error("fast_hadamard_transform: expected a floating-point tensor");
  const int64_t n = x.size(-1);
  check_supported(n);
  const int64_t K = base_size(n);
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
  // cur[r, a, c] = Σ_j x[r, a·2^m + j] S[j, c]; then x·(B ⊗ S) = Bᵀ · cur.
  if (K > 1) cur = at::matmul(base_matrix(K).t().to(cur.options()), cur);
  return (cur.reshape(x.sizes()) / std::sqrt(static_cast<double>(n))).to(x.scalar_type());
}

}  // namespace ptq
