#include "quant/methods/quip/incoherence.h"

#include <cmath>

#include "core/runtime/errors.h"
#include "quant/methods/rotation/hadamard.h"

namespace ptq {

namespace {

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A uniform random permutation of 0..n-1 (Fisher–Yates on the splitmix64 stream of `seed`).
at::Tensor random_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[size_t(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[size_t(splitmix(seed) % uint64_t(i + 1))]);
  return at::tensor(p, at::kLong);
}

// method.py mul_ortho_butterfly applied to the identity: x -> x[p_in] -> (A ⊗ B)·x -> [p_out], so
// M = P_out·K·P_in with (P x)[i] = x[p[i]]: P_in = I[p_in, :], K·P_in = K[:, inverse(p_in)], and
// P_out·(K·P_in) takes its rows p_out.
at::Tensor kron_orthogonal(int64_t n, uint64_t seed) {
  const auto [a, b] = butterfly_factors(n);
  // The factors are orthonormal to 1e-16 in float64; their float32 Kronecker product is orthonormal
  // to float32 rounding (a 7B MLP's 11008² matrix: 485 MB rather than 970 MB in float64).
  at::Tensor k = at::kron(haar_orthogonal64(a, incoherence_side_seed(seed, 2)).to(at::kFloat),
                          haar_orthogonal64(b, incoherence_side_seed(seed, 3)).to(at::kFloat));
  const at::Tensor p_in = random_permutation(n, incoherence_side_seed(seed, 4));
  const at::Tensor p_out = random_permutation(n, incoherence_side_seed(seed, 5));
  const at::Tensor inv_in = at::empty_like(p_in).scatter_(0, p_in, at::arange(n, p_in.options()));
  return k.index_select(1, inv_in).index_select(0, p_out).contiguous();
}

}  // namespace

const std::vector<std::string>& incoherence_kinds() {
  static const std::vector<std::string> k = {"kron", "hadamard"};
  return k;
}

void check_incoherence_kind(const std::string& kind) {
  for (const auto& k : incoherence_kinds())
    if (k == kind) return;
  throw Error("unknown incoherence kind '" + kind + "' (choose from: kron, hadamard)");
}

std::pair<int64_t, int64_t> butterfly_factors(int64_t n) {
  if (n <= 0) throw Error("butterfly_factors: size must be positive, got " + std::to_string(n));
  std::vector<int64_t> pf;  // prime factors, increasing (primefac's order)
  int64_t m = n;
  for (int64_t p = 2; p * p <= m; ++p)
    while (m % p == 0) {
      pf.push_back(p);
      m /= p;
    }
  if (m > 1) pf.push_back(m);
  int64_t a = 1, b = 1;
  for (size_t i = 0; i < pf.size(); ++i) (i % 2 == 0 ? a : b) *= pf[i];
  return {a, b};
}

uint64_t incoherence_side_seed(uint64_t layer_seed, int which) {
  uint64_t s = layer_seed ^ (0xD1B54A32D192ED03ull * uint64_t(which + 1));
  return splitmix(s);
}

uint64_t incoherence_layer_seed(uint64_t seed, const std::string& layer) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : layer) h = (h ^ c) * 1099511628211ull;
  uint64_t s = seed ^ h;
  return splitmix(s);
}

at::Tensor incoherence_matrix(const std::string& kind, int64_t n, uint64_t seed) {
  check_incoherence_kind(kind);
  if (n <= 0) throw Error("incoherence_matrix: size must be positive, got " + std::to_string(n));
  if (kind == "kron") return kron_orthogonal(n, seed);
  return random_hadamard(n, seed).t().contiguous();  // M with W·Mᵀ = W·random_hadamard
}

double incoherence_mu(const at::Tensor& W) {
  const at::Tensor w = W.detach().to(at::kDouble);
  const double fro = w.norm().item<double>();
  if (!(fro > 0)) return 0.0;
  return w.abs().max().item<double>() * std::sqrt(double(w.numel())) / fro;
}

}  // namespace ptq
