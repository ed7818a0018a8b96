#include "eval/tasks/lastword.h"

#include <algorithm>
#include <cctype>
#include <random>

#include "core/runtime/errors.h"
#include "eval/tasks/mc_tasks.h"

namespace ptq {

namespace {

bool is_quote(char c) { return c == '"' || c == '\''; }

// Letters of a sentence-final word ("Anne." -> "Anne", "said!\"" -> "said"), or "" when the
// word does not end a sentence or is not all letters.
std::string sentence_final_word(const std::string& w) {
  size_t e = w.size();
  while (e > 0 && is_quote(w[e - 1])) --e;
  // UTF-8 closing quotes (’ ”) end in 0x99 / 0x9D after E2 80.
  while (e >= 3 && (unsigned char)w[e - 3] == 0xE2 && (unsigned char)w[e - 2] == 0x80 &&
         ((unsigned char)w[e - 1] == 0x99 || (unsigned char)w[e - 1] == 0x9D))
    e -= 3;
  if (e == 0 || (w[e - 1] != '.' && w[e - 1] != '!' && w[e - 1] != '?')) return "";
  --e;
  for (size_t i = 0; i < e; ++i)
    if (!std::isalpha(static_cast<unsigned char>(w[i]))) return "";
  return w.substr(0, e);
}

bool ends_sentence(const std::string& w) {
  size_t e = w.size();
  while (e > 0 && (is_quote(w[e - 1]) || (unsigned char)w[e - 1] >= 0x80)) --e;
  return e > 0 && (w[e - 1] == '.' || w[e - 1] == '!' || w[e - 1] == '?');
}

}  // namespace

std::vector<LastwordItem> make_lastword_items(const std::string& text, const LastwordOptions& o) {
  if (o.n < 1) throw Error("the last-word task needs n >= 1, got " + std::to_string(o.n));
  if (o.context_words < 1) throw Error("the last-word task needs context_words >= 1");
  struct Word {
    size_t begin, end;  // byte range in text
  };
  std::vector<Word> spans;
  for (size_t i = 0; i < text.size();) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t b = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > b) spans.push_back({b, i});
  }
  std::vector<std::string> words;
  for (const Word& w : spans) words.push_back(text.substr(w.begin, w.end - w.begin));

  struct Candidate {
    size_t start, target;
    std::string word;
  };
  std::vector<Candidate> cands;
  const size_t K = size_t(o.context_words);
  for (size_t j = K; j < words.size(); ++j) {
    std::string w = sentence_final_word(words[j]);
    // One space before the target, so context + " " + target is the text as written.
    if (w.size() < 3 || w == "Mrs" || spans[j].begin != spans[j - 1].end + 1 || text[spans[j - 1].end] != ' ') continue;
    // Back from K words before the target to a sentence start, at most K words further.
    const size_t limit = j >= 2 * K ? j - 2 * K : 0;
    size_t s = j - K;
    while (s > limit && !ends_sentence(words[s - 1])) --s;
    cands.push_back({s == 0 || ends_sentence(words[s - 1]) ? s : j - K, j, w});
  }
  if (cands.empty())
    throw Error("the text yields no last-word passage (a sentence ending in a word of 3+ letters after " +
                std::to_string(K) + " words)");
  std::vector<size_t> pick(cands.size());
  for (size_t i = 0; i < pick.size(); ++i) pick[i] = i;
  std::mt19937_64 rng(o.seed);
  for (size_t i = pick.size(); i > 1; --i) std::swap(pick[i - 1], pick[size_t(rng() % i)]);
  pick.resize(std::min(pick.size(), size_t(o.n)));
  std::sort(pick.begin(), pick.end());
  std::vector<LastwordItem> items;
  for (size_t p : pick) {
    const Candidate& c = cands[p];
    LastwordItem it;
    it.context = text.substr(spans[c.start].begin, spans[c.target - 1].end - spans[c.start].begin);
    it.target = c.word;
    items.push_back(it);
  }
  return items;
}

nlohmann::json run_lastword(Model& model, const Tokenizer& tok, const std::vector<LastwordItem>& items, Feedback* fb) {
  if (items.empty()) throw Error("the last-word task has no passages");
  std::vector<LoglikRequest> reqs;
  for (const auto& it : items) reqs.push_back(encode_pair(tok, it.context, " " + it.target));
  const auto res = loglikelihoods(model, reqs, fb);
  int64_t right = 0;
  for (const auto& r : res) right += r.greedy;
  return {{"acc", double(right) / double(res.size())}, {"n", int64_t(res.size())}};
}

std::string lastword_task_name(const std::string& text_path) { return "lastword:" + task_name_of(text_path); }

}  // namespace ptq
