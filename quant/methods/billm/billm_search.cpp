// BiLLM's salient-column and break-point searches (utils/autosearch.py structural_searching,
// utils/mask.py generate_structural_mask). The reference evaluates every candidate on full masked
// matrices (O(candidates · rows · cols) elementwise); here the same errors come from slices of the
// columns in rank order (salient search) and from prefix sums over each row's sorted values
// (break point), which makes the search ~O(rows · cols · (up + log cols)).
#include <algorithm>
#include <cmath>
#include <vector>

#include "quant/methods/billm/billm.h"
#include "quant/methods/pbllm/binary_common.h"

namespace ptq {

namespace {

// The first index of the least error, as the reference's strict `<` scan keeps the first minimum.
int64_t first_min(const at::Tensor& errors) {
  const at::Tensor e = errors.to(at::kCPU, at::kDouble).contiguous();
  const double* v = e.data_ptr<double>();
  int64_t best = 0;
  for (int64_t i = 1; i < e.numel(); ++i)
    if (v[i] < v[best]) best = i;
  return best;
}

// Σ over rows of the squared error of order-2 residual binarization of every entry of A [rows, n]
// (high_order_residual with a mask covering A): a 0-dim tensor.
at::Tensor order2_sq_error(const at::Tensor& A) {
  const at::Tensor d1 = A - A.mean(1, true);
  const at::Tensor r = d1 - d1.sign() * d1.abs().mean(1, true);  // x - (sign·α1 + μ1)
  const at::Tensor d2 = r - r.mean(1, true);
  return (d2 - d2.sign() * d2.abs().mean(1, true)).pow(2).sum();
}

// The number of salient columns: the top i columns by Σ|T| for i = 1 .. up-1, both parts
// binarized with order 2, least mean squared error. The columns are taken in rank order, so each
// candidate's two parts are slices (the same error as the reference's masked full matrices).
int64_t salient_search(const at::Tensor& T, const at::Tensor& order, int64_t up) {
  const at::Tensor P = T.index_select(1, order);
  const int64_t last = std::max<int64_t>(1, up - 1);
  std::vector<at::Tensor> err;
  for (int64_t i = 1; i <= last; ++i) err.push_back(order2_sq_error(P.slice(1, 0, i)) + order2_sq_error(P.slice(1, i)));
  return 1 + first_min(at::stack(err));
}

// torch.linspace(0.10, 0.90, 81) in float32 (ATen's kernel: from the start for the first half,
// from the end for the second), then np.quantile(x, q) with the linear method (numpy's _lerp).
std::vector<double> break_candidates(const at::Tensor& flat) {
  const at::Tensor c = flat.to(at::kCPU, at::kFloat).contiguous();
  std::vector<float> v(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  std::sort(v.begin(), v.end());
  const int64_t n = int64_t(v.size());
  const float start = 0.10f, end = 0.90f, step = (end - start) / 80.0f;
  std::vector<double> out;
  for (int64_t k = 0; k < 81; ++k) {
    const float q = k < 40 ? start + step * float(k) : end - step * float(80 - k);
    const double idx = double(q) * double(n - 1);
    const int64_t lo = std::min<int64_t>(int64_t(std::floor(idx)), n - 1), hi = std::min<int64_t>(lo + 1, n - 1);
    const double t = idx - double(lo), a = v[size_t(lo)], b = v[size_t(hi)], diff = b - a;
    out.push_back(double(float(t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t)));  // float32 values
  }
  return out;
}

// Each row of x [rows, n] sorted ascending. ATen's CPU sort is several times slower than
// std::sort on rows this short, so the CPU takes the plain loop.
at::Tensor sort_rows(const at::Tensor& x) {
  if (!x.device().is_cpu()) return std::get<0>(at::sort(x, 1)).contiguous();
  at::Tensor s = x.to(at::kFloat).contiguous().clone();
  float* d = s.data_ptr<float>();
  for (int64_t r = 0, n = s.size(1); r < s.size(0); ++r) std::sort(d + r * n, d + (r + 1) * n);
  return s;
}

// at::searchsorted per row (sorted [rows, n], v [rows, K] -> int64 [rows, K]); on the CPU the
// plain std::lower_bound / upper_bound.
at::Tensor search_rows(const at::Tensor& sorted, const at::Tensor& v, bool right) {
  if (!sorted.device().is_cpu()) return at::searchsorted(sorted, v.to(sorted.scalar_type()).contiguous(), false, right);
  const at::Tensor vc = v.to(at::kFloat).contiguous();
  at::Tensor out = at::empty(v.sizes(), v.options().dtype(at::kLong));
  const float* s = sorted.data_ptr<float>();
  const float* q = vc.data_ptr<float>();
  int64_t* o = out.data_ptr<int64_t>();
  const int64_t n = sorted.size(1), K = v.size(1);
  for (int64_t r = 0; r < sorted.size(0); ++r)
    for (int64_t k = 0; k < K; ++k) {
      const float* b = s + r * n;
      const float x = q[r * K + k];
      o[r * K + k] = (right ? std::upper_bound(b, b + n, x) : std::lower_bound(b, b + n, x)) - b;
    }
  return out;
}

// Per row, the non-salient values sorted ascending and their prefix sums of x and x² (double,
// a leading 0 column): the statistics of any index range in O(1).
struct SortedRows {
  at::Tensor x, c1, c2;  // [rows, n], [rows, n+1], [rows, n+1]
  at::Tensor range(const at::Tensor& c, const at::Tensor& lo, const at::Tensor& hi) const {
    return c.gather(1, hi) - c.gather(1, lo);
  }
};

// Σ (x - q)² over the index ranges [lo0, hi0) ∪ [lo1, hi1) of each row ([rows, K] each), q the
// order-1 binarization of that set (sign(x - μ)·α + μ; x = μ counted as +1, a tie the reference
// gives μ): count, Σx, Σx² of the set and of its part >= μ give μ, α and the error.
at::Tensor order1_sq_error(const SortedRows& s, const at::Tensor& lo0, const at::Tensor& hi0, const at::Tensor& lo1,
                           const at::Tensor& hi1) {
  auto stats = [&](const at::Tensor& c, const at::Tensor& a0, const at::Tensor& b0, const at::Tensor& a1,
                   const at::Tensor& b1) { return s.range(c, a0, b0) + s.range(c, a1, b1); };
  const at::Tensor n = (hi0 - lo0 + hi1 - lo1).to(at::kDouble);
  const at::Tensor S1 = stats(s.c1, lo0, hi0, lo1, hi1), S2 = stats(s.c2, lo0, hi0, lo1, hi1);
  const at::Tensor inv = at::where(n > 0, n.reciprocal(), at::zeros_like(n));
  const at::Tensor mu = S1 * inv;
  const at::Tensor m = search_rows(s.x, mu, /*right=*/false);
  // the part >= μ: [max(m, lo), hi) of each range
  const at::Tensor u0 = at::minimum(at::maximum(m, lo0), hi0), u1 = at::minimum(at::maximum(m, lo1), hi1);
  const at::Tensor nu = (hi0 - u0 + hi1 - u1).to(at::kDouble), nl = n - nu;
  const at::Tensor U1 = stats(s.c1, u0, hi0, u1, hi1), U2 = stats(s.c2, u0, hi0, u1, hi1);
  const at::Tensor L1 = S1 - U1, L2 = S2 - U2;
  const at::Tensor alpha = ((U1 - nu * mu) + (nl * mu - L1)) * inv;
  auto sq = [](const at::Tensor& k, const at::Tensor& x1, const at::Tensor& x2, const at::Tensor& c) {
    return x2 - 2 * c * x1 + k * c * c;  // Σ (x - c)²
  };
  return (sq(nu, U1, U2, mu + alpha) + sq(nl, L1, L2, mu - alpha)).sum(0);
}

// The break point: for each candidate p, the non-salient weights split into |T| < p, an interval
// (-p, p) of each row's sorted values, and |T| >= p, the two tails; each binarized (order 1).
// The salient part's error is the same for every candidate, so the least error of the two groups
// picks the reference's p.
double break_search(const at::Tensor& T, const at::Tensor& order, int64_t salient, const std::vector<double>& cand) {
  SortedRows s;
  const at::Tensor ns = T.index_select(1, order.slice(0, salient));
  s.x = sort_rows(ns);
  const at::Tensor z = at::zeros({ns.size(0), 1}, ns.options().dtype(at::kDouble));
  const at::Tensor xd = s.x.to(at::kDouble);
  s.c1 = at::cat({z, xd.cumsum(1)}, 1);
  s.c2 = at::cat({z, xd.pow(2).cumsum(1)}, 1);
  const at::Tensor p = at::tensor(cand, ns.options().dtype(at::kDouble)).to(s.x.scalar_type())
                           .unsqueeze(0).expand({ns.size(0), int64_t(cand.size())}).contiguous();
  const at::Tensor lo = search_rows(s.x, -p, /*right=*/true);  // first x > -p
  const at::Tensor hi = search_rows(s.x, p, /*right=*/false);  // first x >= p
  const at::Tensor zero = at::zeros_like(lo), end = at::full_like(lo, s.x.size(1));
  const at::Tensor below = order1_sq_error(s, lo, hi, zero, zero);
  const at::Tensor above = order1_sq_error(s, zero, lo, hi, end);
  return cand[size_t(first_min(below + above))];
}

}  // namespace

BillmSplit billm_split(const at::Tensor& T, int64_t search_columns) {
  const int64_t cols = T.size(1);
  const int64_t up = std::min(search_columns, cols);
  const at::Tensor order = std::get<1>(at::sort(T.abs().sum(0), /*stable=*/true, /*dim=*/0, /*descending=*/true));
  const at::Tensor rank = at::empty_like(order).scatter_(0, order, at::arange(cols, order.options()));
  BillmSplit s;
  s.salient_columns = salient_search(T, order, up);
  s.salient = (rank < s.salient_columns).unsqueeze(0).expand({T.size(0), cols}).contiguous();
  const at::Tensor a = (T * s.salient.logical_not()).abs();  // |T| with the salient columns zeroed
  s.break_point = break_search(T, order, s.salient_columns, break_candidates(a.flatten()));
  const at::Tensor p = at::scalar_tensor(s.break_point, T.options());
  const at::Tensor ns = s.salient.logical_not();
  s.below = (a < p).logical_and(ns);
  s.above = (a >= p).logical_and(ns);
  return s;
}

}  // namespace ptq
