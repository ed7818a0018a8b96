#include "eval/generation/generate.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

std::vector<int64_t> eos_from(const std::string& path) {
  std::ifstream f(path);
  if (!f) return {};
  nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("eos_token_id")) return {};
  const auto& e = j["eos_token_id"];
  std::vector<int64_t> out;
  if (e.is_number_integer()) out.push_back(e.get<int64_t>());
  if (e.is_array())
    for (const auto& x : e)
      if (x.is_number_integer()) out.push_back(x.get<int64_t>());
  return out;
}

// Index of the earliest occurrence of any stop string in `text`, or npos.
size_t first_stop(const std::string& text, const std::vector<std::string>& stop) {
  size_t best = std::string::npos;
  for (const auto& s : stop) best = std::min(best, text.find(s));
  return best;
}

struct Row {
  Continuation c;
  std::vector<int64_t> prompt_ids;
  bool done = false;
};

void check_request(const Model& m, const std::vector<Row>& rows, const SamplingParams& p) {
  p.validate();
  const int64_t ctx = m.config().max_position_embeddings;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t n = int64_t(rows[i].prompt_ids.size());
    if (rows[i].c.prompt.empty() || n == 0)
      throw Error("prompt " + std::to_string(i + 1) + " is empty; generation needs at least one prompt token");
    if (m.config().is_mamba()) continue;  // a recurrent state: no context length
    if (n > ctx)
      throw Error("prompt " + std::to_string(i + 1) + " has " + std::to_string(n) + " tokens, longer than the context of " +
                  std::to_string(ctx) + " (max_position_embeddings)");
    if (n + p.max_new_tokens > ctx)
      throw Error("prompt " + std::to_string(i + 1) + " (" + std::to_string(n) + " tokens) plus max_new_tokens " +
                  std::to_string(p.max_new_tokens) + " exceeds the context of " + std::to_string(ctx));
  }
}

// Records token `id` (probability `prob`) for a row and decides whether the row is finished.
void append_token(Row& r, int64_t id, double prob, const Tokenizer& tok, const std::vector<int64_t>& eos,
                  const SamplingParams& p) {
  r.c.ids.push_back(id);
  r.c.tokens.push_back(tok.decode({id}));
  r.c.probs.push_back(prob);
  const bool is_eos = p.stop_at_eos && std::find(eos.begin(), eos.end(), id) != eos.end();
  std::vector<int64_t> text_ids = r.c.ids;
  if (is_eos) text_ids.pop_back();
  r.c.text = tok.decode(text_ids, /*skip_special_tokens=*/true);
  const size_t cut = first_stop(r.c.text, p.stop);
  if (cut != std::string::npos) {
    r.c.text.resize(cut);
    r.c.finish = "stop";
    r.done = true;
  } else if (is_eos) {
    r.c.finish = "eos";
    r.done = true;
  } else if (int(r.c.ids.size()) >= p.max_new_tokens) {
    r.c.finish = "length";
    r.done = true;
  }
}

// The ids seen so far as a rectangle [B, H]: shorter rows repeat their first id (the penalty is per id).
at::Tensor history_tensor(const std::vector<std::vector<int64_t>>& history) {
  size_t H = 0;
  for (auto& h : history) H = std::max(H, h.size());
  std::vector<int64_t> flat;
  flat.reserve(history.size() * H);
  for (auto& h : history)
    for (size_t t = 0; t < H; ++t) flat.push_back(h[t < h.size() ? t : 0]);
  return at::tensor(flat, at::kLong).reshape({int64_t(history.size()), int64_t(H)});
}

// One left-padded batch: prefill, then one token per step until every row is done.
void generate_batch(Model& m, const Tokenizer& tok, std::vector<Row*>& rows, const SamplingParams& p,
                    const std::vector<int64_t>& eos, std::mt19937_64& rng, Feedback* fb) {
  const int64_t B = int64_t(rows.size());
  size_t L = 0;
  for (auto* r : rows) L = std::max(L, r->prompt_ids.size());
  std::vector<int64_t> flat_ids(size_t(B) * L, 0), flat_real(size_t(B) * L, 0);
  std::vector<std::vector<int64_t>> history(static_cast<size_t>(B));
  for (size_t b = 0; b < size_t(B); ++b) {
    const auto& pi = rows[b]->prompt_ids;
    const size_t off = L - pi.size();
    for (size_t t = 0; t < pi.size(); ++t) {
      flat_ids[b * L + off + t] = pi[t];
      flat_real[b * L + off + t] = 1;
    }
    history[b] = pi;
  }
  at::Tensor ids = at::tensor(flat_ids, at::kLong).reshape({B, int64_t(L)});
  at::Tensor real = at::tensor(flat_real, at::kLong).reshape({B, int64_t(L)}).to(at::kBool);
  DecodeState st;
  at::Tensor logits = m.forward_cached(ids, st, real, /*last_only=*/true).select(1, 0);  // [B, V]
  for (int step = 0; step < p.max_new_tokens; ++step) {
    if (fb) fb->check();
    at::Tensor hist = p.repetition_penalty != 1.0 ? history_tensor(history) : at::Tensor();
    at::Tensor next = choose_tokens(process_logits(logits, hist, p), p, rng);
    at::Tensor chosen_p = at::softmax(logits, -1).gather(1, next.to(logits.device()).unsqueeze(1)).squeeze(1).to(at::kCPU);
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      Row& r = *rows[size_t(b)];
      if (r.done) continue;
      const int64_t id = next[b].item<int64_t>();
      history[size_t(b)].push_back(id);
      append_token(r, id, chosen_p[b].item<double>(), tok, eos, p);
      all_done = all_done && r.done;
    }
    if (fb) fb->report("generate", step + 1, p.max_new_tokens);
    if (all_done) break;
    logits = m.forward_cached(next.unsqueeze(1), st).select(1, 0);  // finished rows keep decoding, unread
  }
}

}  // namespace

std::vector<int64_t> model_eos_ids(const Model& m) {
  const std::string dir = m.checkpoint().dir();
  std::vector<int64_t> e = eos_from(dir + "/generation_config.json");
  return e.empty() ? eos_from(dir + "/config.json") : e;
}

std::vector<Continuation> generate(Model& model, const Tokenizer& tok, const std::vector<std::string>& prompts,
                                   const SamplingParams& params, const GenerateOptions& opts, Feedback* fb) {
  at::NoGradGuard no_grad;
  if (prompts.empty()) throw Error("no prompts to generate from");
  if (opts.batch_size < 1) throw Error("generation batch size is " + std::to_string(opts.batch_size) + "; must be >= 1");
  std::vector<Row> rows(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    rows[i].c.prompt = prompts[i];
    rows[i].prompt_ids = tok.encode(prompts[i]);
  }
  check_request(model, rows, params);
  const std::vector<int64_t> eos = opts.eos_ids.empty() ? model_eos_ids(model) : opts.eos_ids;
  std::mt19937_64 rng(params.seed);
  for (size_t s = 0; s < rows.size(); s += size_t(opts.batch_size)) {
    std::vector<Row*> batch;
    for (size_t i = s; i < std::min(rows.size(), s + size_t(opts.batch_size)); ++i) batch.push_back(&rows[i]);
    generate_batch(model, tok, batch, params, eos, rng, fb);
  }
  std::vector<Continuation> out;
  for (auto& r : rows) out.push_back(std::move(r.c));
  return out;
}

GenerateFn make_greedy_generate_fn(Model& model, const Tokenizer& tok) {
  return [&model, tok](const std::vector<std::string>& prompts, int max_new_tokens, const std::vector<std::string>& stop) {
    SamplingParams p;
    p.max_new_tokens = max_new_tokens;
    p.stop = stop;
    std::vector<std::string> texts;
    for (auto& c : generate(model, tok, prompts, p)) texts.push_back(std::move(c.text));
    return texts;
  };
}

}  // namespace ptq
