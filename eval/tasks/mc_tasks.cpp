#include "eval/tasks/mc_tasks.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "eval/metrics/perplexity.h"

namespace ptq {

LoglikRequest encode_pair(const Tokenizer& tok, const std::string& context, const std::string& continuation) {
  size_t end = context.size();
  while (end > 0 && std::isspace(static_cast<unsigned char>(context[end - 1]))) --end;
  const std::string ctx = context.substr(0, end);
  const std::string cont = context.substr(end) + continuation;
  LoglikRequest r;
  r.context = tok.encode(ctx);
  if (r.context.empty()) throw Error("a request has an empty context");
  std::vector<int64_t> whole = tok.encode(ctx + cont);
  if (whole.size() <= r.context.size()) throw Error("the continuation '" + continuation + "' has no tokens");
  r.continuation.assign(whole.begin() + int64_t(r.context.size()), whole.end());
  return r;
}

std::vector<LoglikResult> loglikelihoods(Model& model, const std::vector<LoglikRequest>& reqs, Feedback* fb) {
  const int64_t max_len = model.config().max_position_embeddings;
  // Model input: (context + continuation)[:-1], its last max_len tokens.
  std::vector<std::vector<int64_t>> inputs(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto& r = reqs[i];
    const int64_t n_cont = int64_t(r.continuation.size());
    if (n_cont < 1) throw Error("a request has no continuation tokens");
    if (n_cont > max_len) throw Error("a continuation of " + std::to_string(n_cont) + " tokens exceeds the context length");
    std::vector<int64_t> all = r.context;
    all.insert(all.end(), r.continuation.begin(), r.continuation.end() - 1);
    if (int64_t(all.size()) > max_len) all.erase(all.begin(), all.end() - max_len);
    inputs[i] = std::move(all);
  }
  std::vector<size_t> order(reqs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return inputs[a].size() > inputs[b].size(); });

  // Batches of up to 64 requests and 32k padded tokens through the blocks (run_windows: layer-major
  // when streaming); the head only runs on the scored positions.
  constexpr int64_t kMaxRows = 64, kMaxTokens = int64_t(1) << 15;
  std::vector<LoglikResult> out(reqs.size());
  for (size_t start = 0; start < order.size();) {
    const int64_t T = int64_t(inputs[order[start]].size());  // longest of the batch
    const int64_t B = std::min<int64_t>({int64_t(order.size() - start), kMaxRows, std::max<int64_t>(1, kMaxTokens / T)});
    at::Tensor ids = at::zeros({B, T}, at::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const auto& in = inputs[order[start + size_t(b)]];
      std::memcpy(ids[b].data_ptr<int64_t>(), in.data(), sizeof(int64_t) * in.size());
    }
    run_windows(model, ids.to(model.device()), B, fb, [&](int64_t row0, const at::Tensor& normed) {
      for (int64_t b = 0; b < normed.size(0); ++b) {
        const size_t i = order[start + size_t(row0 + b)];
        const auto& cont = reqs[i].continuation;
        const int64_t L = int64_t(inputs[i].size()), n = int64_t(cont.size());
        at::Tensor lp = model.head(normed[b].narrow(0, L - n, n)).to(at::kFloat).log_softmax(-1).cpu();
        at::Tensor target = at::tensor(cont, at::kLong);
        out[i].logprob = lp.gather(1, target.unsqueeze(1)).sum().item<double>();
        out[i].greedy = lp.argmax(1).equal(target);
      }
    });
    start += size_t(B);
    report(fb, "loglikelihood", int64_t(start), int64_t(order.size()));
  }
  return out;
}

nlohmann::json TaskScore::to_json() const {
  nlohmann::json j = {{"acc", acc}, {"n", n}};
  if (has_norm) j["acc_norm"] = acc_norm;
  return j;
}

TaskScore score_choices(const std::vector<McItem>& items, const std::vector<std::vector<double>>& lls, bool has_norm) {
  if (items.size() != lls.size()) throw Error("score_choices: one list of log-likelihoods per item expected");
  TaskScore s;
  s.has_norm = has_norm;
  s.n = int64_t(items.size());
  if (s.n == 0) return s;
  int64_t right = 0, right_norm = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& ll = lls[i];
    if (ll.size() != items[i].contexts.size()) throw Error("score_choices: one log-likelihood per choice expected");
    size_t best = 0, best_norm = 0;
    double norm_best = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < ll.size(); ++c) {
      if (ll[c] > ll[best]) best = c;
      const double v = ll[c] / double(std::max<int64_t>(1, items[i].norm_bytes[c]));
      if (v > norm_best) norm_best = v, best_norm = c;
    }
    right += int(best) == items[i].gold;
    right_norm += int(best_norm) == items[i].gold;
  }
  s.acc = double(right) / double(s.n);
  s.acc_norm = double(right_norm) / double(s.n);
  return s;
}

TaskScore run_mc_task(Model& model, const Tokenizer& tok, const McTask& task, int64_t limit, Feedback* fb) {
  const size_t n = limit > 0 ? std::min(task.items.size(), size_t(limit)) : task.items.size();
  const std::vector<McItem> items(task.items.begin(), task.items.begin() + int64_t(n));
  std::vector<LoglikRequest> reqs;
  for (size_t i = 0; i < n; ++i) {
    const McItem& it = items[i];
    for (size_t c = 0; c < it.contexts.size(); ++c) {
      try {
        reqs.push_back(encode_pair(tok, mc_context(task, it, c), it.continuations[c]));
      } catch (const Error& e) {
        throw Error("task " + task.name + " item " + std::to_string(i + 1) + ": " + e.what());
      }
    }
  }
  const auto res = loglikelihoods(model, reqs, fb);
  std::vector<std::vector<double>> lls;
  size_t k = 0;
  for (const McItem& it : items) {
    lls.emplace_back();
    for (size_t c = 0; c < it.contexts.size(); ++c) lls.back().push_back(res[k++].logprob);
  }
  return score_choices(items, lls, task.has_norm);
}

}  // namespace ptq
