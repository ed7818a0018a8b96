#include "eval/tasks/lambada.h"

#include <cmath>

#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "eval/tasks/mc_tasks.h"

namespace ptq {

nlohmann::json run_lambada(Model& model, const Tokenizer& tok, const std::vector<LastwordItem>& items, Feedback* fb) {
  if (items.empty()) throw Error("the LAMBADA task has no passages");
  std::vector<LoglikRequest> reqs;
  for (const auto& it : items) reqs.push_back(encode_pair(tok, it.context, " " + it.target));
  const auto res = loglikelihoods(model, reqs, fb);
  int64_t right = 0;
  double logprob = 0;
  for (const auto& r : res) {
    right += r.greedy;
    logprob += r.logprob;
  }
  const double n = double(res.size());
  return {{"acc", double(right) / n}, {"ppl", std::exp(-logprob / n)}, {"n", int64_t(res.size())}};
}

}  // namespace ptq
