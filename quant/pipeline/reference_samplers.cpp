#include "quant/pipeline/reference_samplers.h"

#include <algorithm>

#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "quant/pipeline/python_random.h"

namespace ptq {

std::vector<int64_t> gptq_reference_offsets(int64_t ntokens, int64_t nsamples, int64_t seqlen, uint64_t seed) {
  if (ntokens <= seqlen)
    throw Error("calibration text has " + std::to_string(ntokens) + " tokens, too few for windows of " +
                std::to_string(seqlen));
  PythonRandom rng(seed);  // random.seed(seed)
  std::vector<int64_t> out(size_t(std::max<int64_t>(nsamples, 0)));
  for (auto& i : out) i = rng.randint(0, ntokens - seqlen - 1);  // datautils.py
  return out;
}

at::Tensor gptq_reference_windows(const std::vector<int64_t>& ids, const CalibSpec& s, const std::string& what) {
  if (int64_t(ids.size()) <= s.seqlen)
    throw Error("calibration text " + what + " has " + std::to_string(ids.size()) +
                " tokens, too few for windows of " + std::to_string(s.seqlen));
  const auto offsets = gptq_reference_offsets(int64_t(ids.size()), s.nsamples, s.seqlen, s.seed);
  at::Tensor out = at::empty({s.nsamples, s.seqlen}, at::kLong);
  auto* p = out.data_ptr<int64_t>();
  for (size_t i = 0; i < offsets.size(); ++i)
    std::copy(ids.begin() + offsets[i], ids.begin() + offsets[i] + s.seqlen, p + int64_t(i) * s.seqlen);
  return out;
}

namespace {

bool py_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && py_space(s[b])) ++b;
  while (e > b && py_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

bool blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), py_space);
}

}  // namespace

std::vector<std::string> text_paragraphs(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_para = false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(start, nl - start);
    if (blank(line)) {
      if (in_para) out.push_back(strip(cur));
      cur.clear();
      in_para = false;
    } else {
      cur += (in_para ? "\n" : "") + line;
      in_para = true;
    }
    start = nl + 1;
  }
  if (in_para) out.push_back(strip(cur));
  return out;
}

at::Tensor llm_awq_windows(const Tokenizer& tok, const std::string& text, const CalibSpec& s, const std::string& what) {
  std::vector<int64_t> cat;
  int64_t n_run = 0;
  for (const auto& line : text_paragraphs(text)) {
    if (n_run == s.nsamples) break;
    const auto ids = tok.encode(line);
    if (ids.size() > 512) continue;  // calib_data.py: `if len(line_encoded) > 512: continue`
    if (ids.empty()) continue;       // `if sample.numel() == 0: continue`
    cat.insert(cat.end(), ids.begin(), ids.end());
    ++n_run;
  }
  const int64_t n_split = int64_t(cat.size()) / s.seqlen;
  if (n_split == 0)
    throw Error("calibration text " + what + " gives " + std::to_string(cat.size()) + " tokens in " +
                std::to_string(n_run) + " paragraphs of at most 512 tokens (llm-awq sampling), fewer than one block of " +
                std::to_string(s.seqlen));
  at::Tensor out = at::empty({n_split, s.seqlen}, at::kLong);
  std::copy(cat.begin(), cat.begin() + n_split * s.seqlen, out.data_ptr<int64_t>());
  return out;
}

}  // namespace ptq
