#include "quant/pipeline/calibration.h"

#include <algorithm>
#include <random>

#include "core/runtime/checked_math.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/text/tokenizer.h"
#include "quant/pipeline/reference_samplers.h"

namespace ptq {

namespace {

// GPTQ's get_wikitext2/get_c4: uniform random window starts over the tokenized text.
at::Tensor random_windows(const std::vector<int64_t>& ids, const CalibSpec& s, const std::string& what) {
  if (int64_t(ids.size()) <= s.seqlen)
    throw Error("calibration text " + what + " has " + std::to_string(ids.size()) +
                " tokens, too few for windows of " + std::to_string(s.seqlen));
  std::mt19937_64 rng(s.seed);
  std::uniform_int_distribution<int64_t> start(0, int64_t(ids.size()) - s.seqlen - 1);
  at::Tensor out = at::empty({s.nsamples, s.seqlen}, at::kLong);
  auto* p = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < s.nsamples; ++i) {
    int64_t b = start(rng);
    std::copy(ids.begin() + b, ids.begin() + b + s.seqlen, p + i * s.seqlen);
  }
  return out;
}

// AWQ's get_calib_dataset: samples (here paragraphs) of at most seqlen tokens, shuffled,
// concatenated and cut into windows of seqlen.
at::Tensor awq_windows(const Tokenizer& tok, const std::string& text, const CalibSpec& s, const std::string& what) {
  std::vector<std::string> paras;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\n\n", start);
    if (end == std::string::npos) end = text.size();
    if (end > start) paras.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  std::mt19937_64 rng(s.seed);
  std::shuffle(paras.begin(), paras.end(), rng);
  std::vector<int64_t> cat;
  const size_t need = size_t(s.nsamples) * size_t(s.seqlen);  // fits: checked in calibration_windows
  for (const auto& p : paras) {
    auto ids = tok.encode(p);
    if (ids.empty() || int64_t(ids.size()) > s.seqlen) continue;
    cat.insert(cat.end(), ids.begin(), ids.end());
    if (cat.size() >= need) break;
  }
  if (cat.size() < need)
    throw Error("calibration text " + what + " gives " + std::to_string(cat.size()) + " tokens in paragraphs of at most " +
                std::to_string(s.seqlen) + " tokens, fewer than nsamples x seqlen = " + std::to_string(need));
  at::Tensor out = at::empty({s.nsamples, s.seqlen}, at::kLong);
  std::copy(cat.begin(), cat.begin() + long(need), out.data_ptr<int64_t>());
  return out;
}

}  // namespace

at::Tensor calibration_windows(const Tokenizer& tok, const CalibSpec& s) {
  if (s.files.empty()) throw Error("no calibration text given (--calib FILE)");
  if (s.nsamples < 1) throw Error("nsamples must be at least 1");
  if (s.seqlen < 2) throw Error("calibration seqlen must be at least 2");
  // The [nsamples, seqlen] ids alone must fit in memory (the activations are checked before a run
  // starts: eval/experiment/sweep_validation.h).
  const auto id_bytes = checked_product({s.nsamples, s.seqlen, int64_t(sizeof(int64_t))});
  const int64_t avail = available_memory(at::Device(at::kCPU));
  if (!id_bytes || (avail >= 0 && *id_bytes > avail))
    throw Error("calibration nsamples " + std::to_string(s.nsamples) + " x seqlen " + std::to_string(s.seqlen) +
                " is too many tokens: their ids alone need " +
                (id_bytes ? std::to_string(*id_bytes) + " bytes" : std::string("more than 2^63 bytes")) + ", " +
                std::to_string(avail) + " bytes of memory are available");
  std::string text, what;
  for (const auto& f : s.files) {
    text += read_text_file(f);
    if (!text.empty() && text.back() != '\n') text += "\n";
    what += (what.empty() ? "'" : ", '") + f + "'";
  }
  if (text.empty()) throw Error("calibration text " + what + " is empty");
  if (s.sampling == "random") return random_windows(tok.encode(text), s, what);
  if (s.sampling == "awq") return awq_windows(tok, text, s, what);
  if (s.sampling == "gptq") return gptq_reference_windows(tok.encode(text), s, what);
  if (s.sampling == "llm-awq") return llm_awq_windows(tok, text, s, what);
  throw Error("unknown calibration sampling '" + s.sampling + "' (choose " + join_sampling_names() + ")");
}

}  // namespace ptq
