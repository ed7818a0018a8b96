#include "eval/tasks/mc_tasks.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <numeric>
#include <regex>

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

namespace {

const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw Error("missing field \"" + std::string(key) + "\"");
  return j.at(key);
}

std::string text_field(const nlohmann::json& j, const char* key) {
  const auto& v = field(j, key);
  if (!v.is_string()) throw Error("field \"" + std::string(key) + "\" must be a string");
  return v.get<std::string>();
}

std::vector<std::string> text_list(const nlohmann::json& v, const char* key) {
  if (!v.is_array() || v.empty()) throw Error("field \"" + std::string(key) + "\" must be a non-empty list of strings");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) throw Error("field \"" + std::string(key) + "\" must be a non-empty list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// An index given as an integer or a string of digits ("2").
int index_field(const nlohmann::json& v, const std::string& key) {
  if (v.is_number_integer()) {
    // Read wide, then range-check: 4294967296 must not wrap to 0.
    const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(1) << 30
                                             : v.get<int64_t>() >= -(int64_t(1) << 30) && v.get<int64_t>() <= int64_t(1) << 30;
    if (!fits) throw Error("field \"" + key + "\" = " + v.dump() + " is not a valid choice index");
    return int(v.get<int64_t>());
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (!s.empty() && s.size() < 9 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) return std::stoi(s);
  }
  throw Error("field \"" + key + "\" must be an integer index");
}

const char* first_key(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (j.contains(k)) return k;
  return nullptr;
}

// Python's str.replace: every non-overlapping occurrence, left to right, in one pass.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t pos = 0;
  for (size_t p; (p = s.find(from, pos)) != std::string::npos; pos = p + from.size()) out += s.substr(pos, p - pos) + to;
  return out + s.substr(pos);
}

// lm-eval's HellaSwag preprocess.
std::string hellaswag_clean(std::string t) {
  const auto b = t.find_first_not_of(" \t\n\r"), e = t.find_last_not_of(" \t\n\r");
  t = b == std::string::npos ? "" : t.substr(b, e - b + 1);
  t = replace_all(t, " [title]", ". ");
  t = std::regex_replace(t, std::regex("\\[.*?\\]"), "");
  return replace_all(t, "  ", " ");
}

std::string capitalize(std::string s) {  // Python str.capitalize for ASCII
  for (size_t i = 0; i < s.size(); ++i) s[i] = char(i ? std::tolower(static_cast<unsigned char>(s[i])) : std::toupper(static_cast<unsigned char>(s[i])));
  return s;
}

// Shared context, continuation " " + choice (lm-eval's target delimiter).
McItem shared_context(const std::string& context, const std::vector<std::string>& choices, int gold) {
  McItem it;
  for (const auto& c : choices) {
    it.contexts.push_back(context);
    it.continuations.push_back(" " + c);
    it.norm_bytes.push_back(int64_t(c.size()));
  }
  it.gold = gold;
  return it;
}

}  // namespace

McItem parse_mc_item(const nlohmann::json& j, std::string* format) {
  if (!j.is_object()) throw Error("expected a JSON object");
  McItem it;
  std::string fmt;
  if (j.contains("goal") && j.contains("sol1")) {
    fmt = "piqa";
    it = shared_context("Question: " + text_field(j, "goal") + "\nAnswer:",
                        {text_field(j, "sol1"), text_field(j, "sol2")}, index_field(field(j, "label"), "label"));
  } else if (j.contains("answerKey")) {
    fmt = "arc";
    const auto& ch = field(j, "choices");
    if (!ch.is_object()) throw Error("field \"choices\" must be an object with \"text\" and \"label\" lists");
    const auto texts = text_list(field(ch, "text"), "choices.text"), labels = text_list(field(ch, "label"), "choices.label");
    if (texts.size() != labels.size()) throw Error("choices.text and choices.label differ in length");
    const std::string key = field(j, "answerKey").is_string() ? j["answerKey"].get<std::string>() : j["answerKey"].dump();
    auto pos = std::find(labels.begin(), labels.end(), key);
    if (pos == labels.end()) throw Error("answerKey '" + key + "' is not among choices.label");
    it = shared_context("Question: " + text_field(j, "question") + "\nAnswer:", texts, int(pos - labels.begin()));
  } else if (j.contains("endings")) {
    fmt = "hellaswag";
    std::string ctx = j.contains("ctx_a") ? text_field(j, "ctx_a") + " " + capitalize(text_field(j, "ctx_b"))
                                          : text_field(j, "ctx");
    if (j.contains("activity_label")) ctx = text_field(j, "activity_label") + ": " + ctx;
    std::vector<std::string> endings;
    for (const auto& e : text_list(field(j, "endings"), "endings")) endings.push_back(hellaswag_clean(e));
    it = shared_context(hellaswag_clean(ctx), endings, index_field(field(j, "label"), "label"));
  } else if (j.contains("option1") && j.contains("sentence")) {
    fmt = "winogrande";
    const std::string s = text_field(j, "sentence");
    const size_t us = s.find('_');
    if (us == std::string::npos) throw Error("field \"sentence\" has no '_' blank");
    std::string rest = s.substr(us + 1);
    rest.erase(0, rest.find_first_not_of(" \t\n"));
    rest.erase(rest.find_last_not_of(" \t\n") + 1);
    for (const char* k : {"option1", "option2"}) {
      const std::string opt = text_field(j, k);
      it.contexts.push_back(s.substr(0, us) + opt);
      it.continuations.push_back(" " + rest);
      it.norm_bytes.push_back(int64_t(rest.size()));
    }
    it.gold = index_field(field(j, "answer"), "answer") - 1;
  } else if (j.contains("passage")) {
    fmt = "boolq";
    int gold;
    if (j.contains("answer") && j["answer"].is_boolean()) gold = j["answer"].get<bool>() ? 1 : 0;
    else gold = index_field(field(j, "label"), "label");
    it = shared_context(text_field(j, "passage") + "\nQuestion: " + text_field(j, "question") + "?\nAnswer:",
                        {"no", "yes"}, gold);
  } else {
    fmt = "generic";
    const char* ck = first_key(j, {"context", "query"});
    if (!ck) throw Error("unknown task format: expected \"context\" (or \"query\") and \"choices\", or the fields of "
                         "piqa, arc, hellaswag, winogrande or boolq");
    const char* gk = first_key(j, {"gold", "label", "answer"});
    if (!gk) throw Error("missing field \"gold\" (or \"label\", \"answer\")");
    it = shared_context(text_field(j, ck), text_list(field(j, "choices"), "choices"), index_field(j[gk], gk));
  }
  if (it.gold < 0 || it.gold >= int(it.contexts.size()))
    throw Error("gold index " + std::to_string(it.gold) + " is outside the " + std::to_string(it.contexts.size()) + " choices");
  if (format) *format = fmt;
  return it;
}

std::string task_name_of(const std::string& path) {
  const std::string base = path.substr(path.find_last_of('/') + 1);
  return base.substr(0, base.find('.'));
}

McTask load_mc_task(const std::string& path) {
  const std::string text = read_text_file(path);
  McTask t;
  t.name = task_name_of(path);
  size_t pos = 0;
  for (int line = 1; pos < text.size(); ++line) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string s = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (s.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "'" + path + "' line " + std::to_string(line);
    try {
      std::string fmt;
      t.items.push_back(parse_mc_item(parse_json(s, where), &fmt));
      if (t.format.empty()) t.format = fmt;
      if (fmt != t.format) throw Error("a " + fmt + " item in a " + t.format + " file");
    } catch (const Error& e) {
      const std::string msg = e.what();
      throw Error(msg.find(where) != std::string::npos ? msg : where + ": " + msg);
    }
  }
  if (t.items.empty()) throw Error("task file '" + path + "' has no items");
  t.has_norm = t.format != "winogrande" && t.format != "boolq";
  return t;
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
        reqs.push_back(encode_pair(tok, it.contexts[c], it.continuations[c]));
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
