// Sampling (eval/generation/sampling.h) against transformers' logits processors on hand-checked
// values, generate()'s stops, EOS, seeds and errors (eval/generation/generate.h), and the
// tokenizer's skip_special_tokens.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <limits>

#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/generation/generate.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

at::Tensor row(std::vector<float> v) { return at::tensor(v, at::kFloat).unsqueeze(0); }

struct Tiny {
  std::unique_ptr<Model> model = Model::load(test::tiny());
  Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
};

Tiny& tiny() {
  static Tiny t;
  return t;
}

SamplingParams greedy(int n) {
  SamplingParams p;
  p.max_new_tokens = n;
  return p;
}

}  // namespace

TEST_CASE("repetition penalty: HF's convention (divide positive, multiply negative scores)") {
  SamplingParams p = greedy(1);
  p.repetition_penalty = 2.0;
  at::Tensor s = process_logits(row({4, -3, 1, 0.5}), at::tensor(std::vector<int64_t>{0, 1, 1}).unsqueeze(0), p);
  // ids 0 and 1 seen (1 twice: penalised once, as the processor's gather/scatter does)
  CHECK_NEAR(s[0][0].item<double>(), 2.0, 0);
  CHECK_NEAR(s[0][1].item<double>(), -6.0, 0);
  CHECK_NEAR(s[0][2].item<double>(), 1.0, 0);
  std::mt19937_64 rng(0);
  CHECK(choose_tokens(s, p, rng)[0].item<int64_t>() == 0);
}

TEST_CASE("temperature, top-k with ties, top-p as transformers' warpers") {
  SamplingParams p = greedy(1);
  p.temperature = 0.5;
  p.top_k = 2;
  at::Tensor s = process_logits(row({1, 3, 3, 2}), at::Tensor(), p);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(s[0][0].item<double>() == -inf && s[0][3].item<double>() == -inf);  // below the 2nd largest
  CHECK_NEAR(s[0][1].item<double>(), 6.0, 0);                                // 3 / 0.5
  p.top_k = 3;                                                                // the tie at rank 2-3 kept
  CHECK(process_logits(row({1, 3, 3, 2}), at::Tensor(), p)[0][3].item<double>() == 4.0);
  // top_p 0.7 on probabilities 0.5, 0.3, 0.15, 0.05: ascending cumsum 0.05, 0.2, 0.5, 1.0;
  // removed where ≤ 0.3: the 0.05 and 0.15 tokens; 0.3 and 0.5 kept.
  SamplingParams q = greedy(1);
  q.temperature = 1.0;
  q.top_p = 0.7;
  at::Tensor probs = at::tensor(std::vector<double>{0.5, 0.3, 0.15, 0.05});
  at::Tensor t = process_logits(probs.log().to(at::kFloat).unsqueeze(0), at::Tensor(), q);
  CHECK(std::isfinite(t[0][0].item<double>()) && std::isfinite(t[0][1].item<double>()));
  CHECK(t[0][2].item<double>() == -inf && t[0][3].item<double>() == -inf);
}

TEST_CASE("seeded sampling: reproducible, seeds differ, draws follow the distribution") {
  SamplingParams p = greedy(1);
  p.temperature = 1.0;
  at::Tensor s = row({0, 0, 0, 0}).expand({2000, 4}).contiguous();
  std::mt19937_64 a(7), b(7), c(8);
  at::Tensor x = choose_tokens(s, p, a), y = choose_tokens(s, p, b), z = choose_tokens(s, p, c);
  CHECK(x.equal(y));
  CHECK(!x.equal(z));
  // 2000 uniform draws over 4 tokens: each count ~ 500 ± 19 (binomial sd); 5 sd = ±97.
  for (int64_t v = 0; v < 4; ++v) CHECK_NEAR(x.eq(v).sum().item<double>(), 500.0, 97.0);
}

TEST_CASE("sampling parameters out of range are refused, naming the parameter and range") {
  auto bad = [](auto set, const char* needle) {
    SamplingParams p = greedy(4);
    set(p);
    CHECK_THROWS_WITH(p.validate(), needle);
  };
  bad([](SamplingParams& p) { p.max_new_tokens = 0; }, "max_new_tokens is 0; allowed: 1 to 16384");
  bad([](SamplingParams& p) { p.max_new_tokens = 1000000; }, "max_new_tokens is 1000000");
  bad([](SamplingParams& p) { p.temperature = -1; }, "temperature is -1");
  bad([](SamplingParams& p) { p.temperature = 1, p.top_p = 0; }, "top_p is 0; allowed: (0, 1]");
  bad([](SamplingParams& p) { p.temperature = 1, p.top_k = -2; }, "top_k is -2");
  bad([](SamplingParams& p) { p.repetition_penalty = 0; }, "repetition_penalty is 0");
  bad([](SamplingParams& p) { p.top_k = 5; }, "temperature is 0");
  bad([](SamplingParams& p) { p.stop = {""}; }, "stop string is empty");
}

TEST_CASE("generate: empty prompt, prompt beyond the context, no prompts") {
  at::NoGradGuard ng;
  Tiny& t = tiny();
  CHECK_THROWS_WITH(generate(*t.model, t.tok, {"Emma", ""}, greedy(4)), "prompt 2 is empty");
  std::string longp;
  for (int i = 0; i < 1200; ++i) longp += "the house and ";
  CHECK_THROWS_WITH(generate(*t.model, t.tok, {longp}, greedy(4)), "longer than the context of 2048");
  CHECK_THROWS_WITH(generate(*t.model, t.tok, {"Emma"}, greedy(2048)), "exceeds the context of 2048");  // 1 token + 2048
  CHECK_THROWS_WITH(generate(*t.model, t.tok, {}, greedy(4)), "no prompts");
  CHECK_THROWS_WITH(generate(*t.model, t.tok, {"Emma"}, greedy(0)), "max_new_tokens is 0");
}

TEST_CASE("generate: greedy records, stop strings removed, EOS, batches equal single prompts") {
  at::NoGradGuard ng;
  Tiny& t = tiny();
  const std::vector<std::string> prompts = {"Emma Woodhouse, handsome, clever, and rich,", "It is a truth"};
  auto all = generate(*t.model, t.tok, prompts, greedy(12));
  CHECK(all.size() == 2 && all[0].ids.size() == 12 && all[0].finish == "length");
  for (size_t i = 0; i < 2; ++i) {
    auto one = generate(*t.model, t.tok, {prompts[i]}, greedy(12));
    CHECK(one[0].ids == all[i].ids && one[0].text == all[i].text);
  }
  std::string joined;
  for (size_t k = 0; k < 12; ++k) {
    joined += all[0].tokens[k];
    CHECK(all[0].probs[k] > 0 && all[0].probs[k] <= 1);
  }
  CHECK(joined == all[0].text);
  // Stop at the text of the 4th token: the continuation is cut before it, decoding stops there.
  SamplingParams s = greedy(12);
  s.stop = {all[0].tokens[3]};
  auto stopped = generate(*t.model, t.tok, {prompts[0]}, s);
  CHECK(stopped[0].finish == "stop" && all[0].text.rfind(stopped[0].text, 0) == 0);
  CHECK(stopped[0].text.size() < all[0].text.size() && stopped[0].ids.size() <= 4);
  // The first greedy token as EOS: one token, empty text.
  GenerateOptions o;
  o.eos_ids = {all[0].ids[0]};
  auto eos = generate(*t.model, t.tok, {prompts[0]}, greedy(12), o);
  CHECK(eos[0].finish == "eos" && eos[0].ids.size() == 1 && eos[0].text.empty());
  CHECK(model_eos_ids(*t.model) == std::vector<int64_t>{0});  // austen-tiny's config.json
  // The GenerateFn of the generation tasks: the same greedy text.
  CHECK(make_greedy_generate_fn(*t.model, t.tok)(prompts, 12, {})[1] == all[1].text);
}

TEST_CASE("generate: seeded sampling is reproducible and differs from greedy") {
  at::NoGradGuard ng;
  Tiny& t = tiny();
  SamplingParams p = greedy(16);
  p.temperature = 1.5;
  p.top_k = 50;
  p.top_p = 0.95;
  p.seed = 3;
  auto a = generate(*t.model, t.tok, {"She was"}, p), b = generate(*t.model, t.tok, {"She was"}, p);
  CHECK(a[0].ids == b[0].ids);
  CHECK(a[0].ids != generate(*t.model, t.tok, {"She was"}, greedy(16))[0].ids);
}

TEST_CASE("decode skip_special_tokens leaves out special added tokens only") {
  Tiny& t = tiny();
  std::vector<int64_t> ids = t.tok.encode("Emma was");
  ids.insert(ids.begin(), 0);  // <|endoftext|>
  ids.push_back(1);            // <|pad|>
  CHECK(t.tok.is_special(0) && !t.tok.is_special(ids[1]));
  CHECK(t.tok.decode(ids) == "<|endoftext|>Emma was<|pad|>");
  CHECK(t.tok.decode(ids, true) == "Emma was");
  // The reference tokenizers: Llama-3's <|begin_of_text|> (byte-level) and Llama-2's <s>
  // (sentencepiece-style: left out before Fuse and Strip, so the prepended space is still stripped).
  const std::string dir = test::shared_dir() + "/tokenizers/";
  const Tokenizer llama3 = Tokenizer::from_file(dir + "llama3.tokenizer.json");
  CHECK(llama3.decode({128000, 9906, 1917}, true) == "Hello world");
  const Tokenizer llama2 = Tokenizer::from_file(dir + "llama2.tokenizer.json");
  CHECK(llama2.decode({1, 22557, 1526}) == "<s> Hello world");
  CHECK(llama2.decode({1, 22557, 1526}, true) == "Hello world");
}
