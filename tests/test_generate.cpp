// Incremental decoding (Model::forward_cached) against recomputing the whole sequence, for every
// shared parity architecture: greedy tokens equal and logits within 1e-4 in float32; left-padded
// batches equal each prompt alone; chunked prefill; streamed equals resident; the quantized KV
// cache in decoding equals its full-sequence simulation.
//
// Tolerance: both paths run the same float32 operations on the same values; only the shapes of
// the matmuls (one new row against S cached keys vs the whole [S, S] product) and hence the
// blocking and summation order differ, which moves each result by a few ulps (~1e-7 relative).
// Through 2 blocks and a head of |logit| ≲ 10 that stays below ~1e-5; 1e-4 is the bound.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cstdio>

#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "quant/kvcache/kv_cache_quantizer.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

constexpr double kLogitTol = 1e-4;

const char* const kArchitectures[] = {"llama", "llama3-rope", "qwen2",   "mistral", "mixtral", "qwen3",      "qwen3-moe",
                                      "qwen2-moe", "gemma2",  "gemma3", "phi3",    "mamba",   "deepseek-v3"};

std::string parity(const std::string& name) { return test::shared_dir() + "/parity/" + name; }

at::Tensor prompt_ids(const std::string& dir, int64_t row, int64_t n) {
  SafetensorsFile ref(dir + "/reference.safetensors");
  return ref.load("input_ids").narrow(0, row, 1).narrow(1, 0, n).clone();
}

double max_abs(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

struct Greedy {
  std::vector<int64_t> tokens;
  std::vector<at::Tensor> logits;  // [V] per step
};

// Greedy decoding with the cache: the logits of each step (prefill's last position first).
Greedy decode_cached(Model& m, const at::Tensor& prompt, int steps) {
  DecodeState st;
  Greedy g;
  at::Tensor last = m.forward_cached(prompt, st).select(1, prompt.size(1) - 1).squeeze(0);
  for (int s = 0; s < steps; ++s) {
    g.logits.push_back(last);
    const int64_t next = last.argmax().item<int64_t>();
    g.tokens.push_back(next);
    last = m.forward_cached(at::full({1, 1}, next, at::kLong), st).select(1, 0).squeeze(0);
  }
  return g;
}

// The reference: the whole sequence recomputed each step (Model::forward, the parity-tested path).
Greedy decode_full(Model& m, const at::Tensor& prompt, int steps) {
  Greedy g;
  at::Tensor seq = prompt.clone();
  for (int s = 0; s < steps; ++s) {
    at::Tensor last = m.forward(seq).select(1, seq.size(1) - 1).squeeze(0);
    g.logits.push_back(last);
    const int64_t next = last.argmax().item<int64_t>();
    g.tokens.push_back(next);
    seq = at::cat({seq, at::full({1, 1}, next, at::kLong)}, 1);
  }
  return g;
}

double worst(const Greedy& a, const Greedy& b) {
  double d = 0;
  for (size_t i = 0; i < a.logits.size(); ++i) d = std::max(d, max_abs(a.logits[i], b.logits[i]));
  return d;
}

// 12 prompt tokens + 30 steps = 42 > Gemma2's window of 16: the window is exercised in decoding.
void cached_equals_full(const std::string& arch) {
  at::NoGradGuard ng;
  auto m = Model::load(parity(arch));
  at::Tensor prompt = prompt_ids(parity(arch), 0, 12);
  Greedy c = decode_cached(*m, prompt, 30), f = decode_full(*m, prompt, 30);
  const double d = worst(c, f);
  std::printf("      %s: 30 cached steps, max |diff| logits %.3g\n", arch.c_str(), d);
  CHECK_MSG(c.tokens == f.tokens, arch + ": cached greedy tokens differ from recomputing the sequence");
  CHECK_MSG(d < kLogitTol, arch + ": logits differ by " + test::num(d));
}

// Prompts of 5, 12 and 9 tokens in one left-padded batch, 8 steps, against each prompt alone.
void batch_equals_alone(const std::string& arch) {
  at::NoGradGuard ng;
  auto m = Model::load(parity(arch));
  const int64_t lens[] = {5, 12, 9};
  const int steps = 8;
  at::Tensor ids = at::zeros({3, 12}, at::kLong), real = at::zeros({3, 12}, at::kBool);
  std::vector<Greedy> alone;
  for (int64_t b = 0; b < 3; ++b) {
    at::Tensor p = prompt_ids(parity(arch), b % 2, lens[b]);
    if (b == 2) p = p.flip(1);  // a third, different prompt from the two reference rows
    ids[b].narrow(0, 12 - lens[b], lens[b]).copy_(p[0]);
    ids[b].narrow(0, 0, 12 - lens[b]).fill_(1);  // the pad id; never attended to
    real[b].narrow(0, 12 - lens[b], lens[b]).fill_(true);
    alone.push_back(decode_cached(*m, p, steps));
  }
  DecodeState st;
  at::Tensor last = m->forward_cached(ids, st, real).select(1, 11);
  double d = 0;
  for (int s = 0; s < steps; ++s) {
    at::Tensor next = last.argmax(-1);
    for (int64_t b = 0; b < 3; ++b) {
      d = std::max(d, max_abs(last[b], alone[size_t(b)].logits[size_t(s)]));
      CHECK_MSG(next[b].item<int64_t>() == alone[size_t(b)].tokens[size_t(s)],
                arch + ": row " + std::to_string(b) + " step " + std::to_string(s) + " differs from the prompt alone");
    }
    last = m->forward_cached(next.unsqueeze(1), st).select(1, 0);
  }
  std::printf("      %s: left-padded batch of 3 vs alone, max |diff| logits %.3g\n", arch.c_str(), d);
  CHECK_MSG(d < kLogitTol, arch + ": batched logits differ by " + test::num(d));
}

// 12 tokens prefilled as 2 + 7 + 3 (a Mamba conv window of K−1 = 3 spans chunks) vs at once, and
// vs the full forward at every position.
void chunked_prefill(const std::string& arch) {
  at::NoGradGuard ng;
  auto m = Model::load(parity(arch));
  at::Tensor p = prompt_ids(parity(arch), 1, 12);
  at::Tensor full = m->forward(p);
  DecodeState st;
  std::vector<at::Tensor> parts;
  int64_t at_tok = 0;
  for (int64_t n : {2, 7, 3}) {
    parts.push_back(m->forward_cached(p.narrow(1, at_tok, n), st));
    at_tok += n;
  }
  const double d = max_abs(at::cat(parts, 1), full);
  std::printf("      %s: prefill in 3 chunks vs full forward, max |diff| %.3g\n", arch.c_str(), d);
  CHECK_MSG(d < kLogitTol, arch + ": chunked prefill differs by " + test::num(d));
}

void register_architectures() {
  for (const char* a : kArchitectures) {
    const std::string arch = a;
    const std::string suite = test::suite_of_file(__FILE__);
    test::cases().push_back({suite, "cached greedy equals recompute " + arch, test::Speed::Fast, [arch] { cached_equals_full(arch); }});
    test::cases().push_back({suite, "left-padded batch equals alone " + arch, test::Speed::Fast, [arch] { batch_equals_alone(arch); }});
    test::cases().push_back({suite, "chunked prefill " + arch, test::Speed::Fast, [arch] { chunked_prefill(arch); }});
  }
}
const bool kRegistered = (register_architectures(), true);

}  // namespace

TEST_CASE("streamed decoding equals resident (mixtral, mamba, deepseek-v3)") {
  at::NoGradGuard ng;
  for (const char* arch : {"mixtral", "mamba", "deepseek-v3"}) {
    LoadOptions lo;
    lo.residency = Residency::Stream;
    auto streamed = Model::load(parity(arch), lo);
    auto resident = Model::load(parity(arch));
    CHECK(streamed->streaming() && !resident->streaming());
    at::Tensor p = prompt_ids(parity(arch), 0, 10);
    Greedy s = decode_cached(*streamed, p, 10), r = decode_cached(*resident, p, 10);
    // The same weights and the same operations: only the block's residence differs.
    CHECK_MSG(s.tokens == r.tokens, std::string(arch) + ": streamed tokens differ");
    CHECK_MSG(worst(s, r) < 1e-6, std::string(arch) + ": streamed logits differ by " + test::num(worst(s, r)));
  }
}

TEST_CASE("empty decode state refuses a batch mismatch and empty ids") {
  at::NoGradGuard ng;
  auto m = Model::load(parity("llama"));
  DecodeState st;
  m->forward_cached(prompt_ids(parity("llama"), 0, 4), st);
  CHECK(st.length() == 4 && st.next_position[0].item<int64_t>() == 4);
  CHECK_THROWS_WITH(m->forward_cached(at::zeros({2, 1}, at::kLong), st), "decode state holds 1");
  CHECK_THROWS_WITH(m->forward_cached(at::zeros({1, 0}, at::kLong), st), "at least one token");
  DecodeState a, b;  // last_only: the last row of the full prefill's logits
  at::Tensor p = prompt_ids(parity("llama"), 1, 7);
  CHECK(m->forward_cached(p, a, {}, true).equal(m->forward_cached(p, b).narrow(1, 6, 1)));
}

namespace {

// The quantized KV cache in decoding vs its full-sequence simulation (Model::forward with the
// cache set, the path test_kv_cache checks against KIVI's conventions). They are defined to agree
// for an unpadded prompt: the simulation gives query t exactly the entries a decoder's cache holds
// once t is written (per token: an entry is quantized when written and read in full precision
// while inside the residual window; per channel: complete groups of G tokens quantized, the
// current chunk of C kept in full precision), and decoding fills the cache slot by slot at the
// same positions, reading it through the same attend_with_kv_cache. (With left padding the
// per-channel groups are formed over cache slots, pads included, as KIVI's padded batches do, so a
// padded row agrees with its own simulation only for per-token granularity.) The two K tensors
// differ by matmul-shape rounding only (a few ulps), so the logits agree to the float32 tolerance
// above unless a K/V entry sits within ulps of a rounding boundary of the 4-bit grid.
void kv_quant_decoding(const std::string& arch, const KvCacheSpec& spec) {
  at::NoGradGuard ng;
  auto m = Model::load(parity(arch));
  at::Tensor prompt = prompt_ids(parity(arch), 0, 9);
  const Greedy fp = decode_cached(*m, prompt, 20);
  m->set_kv_cache(make_kv_cache_quantizer(spec, m->config()));
  const Greedy c = decode_cached(*m, prompt, 20), f = decode_full(*m, prompt, 20);
  const double d = worst(c, f), moved = worst(c, fp);
  std::printf("      %s %s: decoding vs simulation max |diff| %.3g; vs full-precision cache %.3g\n", arch.c_str(),
              spec.label().c_str(), d, moved);
  CHECK_MSG(c.tokens == f.tokens, arch + ": quantized-cache decoding tokens differ from the simulation");
  CHECK_MSG(d < kLogitTol, arch + ": quantized-cache decoding differs from the simulation by " + test::num(d));
  CHECK_MSG(moved > 1e-3, arch + ": the quantized cache did not change the logits (" + test::num(moved) + ")");
}

KvCacheSpec kv_spec(const std::string& gran, int64_t group, int64_t residual) {
  KvCacheSpec s;
  s.bits = 4;
  s.granularity = gran;
  s.group = group;
  s.residual = residual;
  return s;
}

}  // namespace

TEST_CASE("quantized KV cache in decoding equals its simulation: per token, residual 4 (llama, gemma2)") {
  kv_quant_decoding("llama", kv_spec("token", 0, 4));
  kv_quant_decoding("gemma2", kv_spec("token", 0, 4));  // soft-capped scores, window 16 < 29 tokens
}

TEST_CASE("quantized KV cache in decoding equals its simulation: per channel G=4, residual 8, no residual (qwen3)") {
  kv_quant_decoding("qwen3", kv_spec("channel", 4, 8));
  kv_quant_decoding("llama", kv_spec("channel", 4, 0));
}
