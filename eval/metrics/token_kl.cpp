#include "eval/metrics/token_kl.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"

namespace ptq {

std::vector<int64_t> token_counts(const std::vector<int64_t>& ids, int64_t vocab_size) {
  std::vector<int64_t> c(size_t(vocab_size), 0);
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size)
      throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab_size));
    ++c[size_t(id)];
  }
  return c;
}

std::vector<double> smoothed_distribution(const std::vector<int64_t>& counts, double eps) {
  const double n = double(std::accumulate(counts.begin(), counts.end(), int64_t(0)));
  const double denom = n + eps * double(counts.size());
  std::vector<double> p(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) p[i] = (double(counts[i]) + eps) / denom;
  return p;
}

double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  if (p.size() != q.size()) throw Error("kl_divergence: distributions of different lengths");
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] > 0) kl += p[i] * std::log(p[i] / q[i]);
  return kl;
}

double js_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  if (p.size() != q.size()) throw Error("js_divergence: distributions of different lengths");
  std::vector<double> m(p.size());
  for (size_t i = 0; i < p.size(); ++i) m[i] = 0.5 * (p[i] + q[i]);
  return 0.5 * kl_divergence(p, m) + 0.5 * kl_divergence(q, m);
}

namespace {

std::vector<int64_t> encode_named(const Tokenizer& tok, const std::string& text, const std::string& name) {
  std::vector<int64_t> ids;
  try {
    ids = tok.encode(text);
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
  if (ids.empty()) throw Error(name + " has no tokens (empty text)");
  return ids;
}

}  // namespace

nlohmann::json token_kl(const Tokenizer& tok, const std::string& calib_text, const std::string& test_text,
                        const TokenKlOptions& o, const std::string& calib_name, const std::string& test_name) {
  if (!(o.smoothing > 0) || !std::isfinite(o.smoothing))
    throw Error("smoothing must be a positive number, got " + std::to_string(o.smoothing));
  return token_kl_ids(tok, encode_named(tok, calib_text, calib_name), encode_named(tok, test_text, test_name), o,
                      calib_name, test_name);
}

nlohmann::json token_kl_ids(const Tokenizer& tok, const std::vector<int64_t>& calib_ids,
                            const std::vector<int64_t>& test_ids, const TokenKlOptions& o,
                            const std::string& calib_name, const std::string& test_name) {
  if (!(o.smoothing > 0) || !std::isfinite(o.smoothing))
    throw Error("smoothing must be a positive number, got " + std::to_string(o.smoothing));
  if (o.top < 0) throw Error("top must be 0 or more, got " + std::to_string(o.top));
  if (calib_ids.empty()) throw Error(calib_name + " has no tokens");
  if (test_ids.empty()) throw Error(test_name + " has no tokens");
  const int64_t V = tok.vocab_size();
  const auto cc = token_counts(calib_ids, V), tc = token_counts(test_ids, V);
  const auto pc = smoothed_distribution(cc, o.smoothing), pt = smoothed_distribution(tc, o.smoothing);

  const double nc = double(calib_ids.size()), nt = double(test_ids.size());
  std::vector<int64_t> order(static_cast<size_t>(V));
  std::iota(order.begin(), order.end(), 0);
  auto freq = [&](int64_t i) { return double(cc[size_t(i)]) / nc + double(tc[size_t(i)]) / nt; };
  const size_t k = size_t(std::min<int64_t>(o.top, V));
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    const double fa = freq(a), fb = freq(b);
    return fa != fb ? fa > fb : a < b;
  });
  nlohmann::json top = nlohmann::json::array();
  for (size_t r = 0; r < k; ++r) {
    const int64_t id = order[r];
    top.push_back({{"id", id}, {"token", tok.id_to_token(id)}, {"calib", double(cc[size_t(id)]) / nc},
                   {"test", double(tc[size_t(id)]) / nt}});
  }
  return {{"smoothing", o.smoothing},
          {"vocab_size", V},
          {"calib_tokens", int64_t(calib_ids.size())},
          {"test_tokens", int64_t(test_ids.size())},
          {"kl", kl_divergence(pt, pc)},
          {"kl_calib_test", kl_divergence(pc, pt)},
          {"js", js_divergence(pt, pc)},
          {"top", top},
          {"calib_counts", cc},
          {"test_counts", tc}};
}

nlohmann::json token_kl_files(const std::string& tokenizer_path, const std::string& calib_path,
                              const std::string& test_path, const TokenKlOptions& o) {
  const Tokenizer tok = Tokenizer::from_file(tokenizer_path);
  nlohmann::json j = token_kl(tok, read_text_file(calib_path), read_text_file(test_path), o,
                              "calibration text '" + calib_path + "'", "test text '" + test_path + "'");
  j["tokenizer"] = tokenizer_path;
  j["calib"] = calib_path;
  j["test"] = test_path;
  return j;
}

}  // namespace ptq
