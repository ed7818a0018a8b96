// The "samples" key of experiment specs and record["samples"] (eval/generation/samples.h): the
// shape the GUI's Samples view reads, fp and quantized continuations from one run.
#include <ATen/core/grad_mode.h>

#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/experiment.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/generation/generate.h"
#include "eval/generation/samples.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

SamplingParams greedy(int n) {
  SamplingParams p;
  p.max_new_tokens = n;
  return p;
}

}  // namespace

TEST_CASE("record samples: fp and quantized side by side in the run's record") {
  const nlohmann::json spec_json = {{"model", test::tiny()}, {"method", "rtn"}, {"bits", 2}, {"group", 32},
                                    {"samples", {{"prompts", {"It is a truth", "Emma"}}, {"max_new_tokens", 6}}}};
  const ExperimentSpec spec = ExperimentSpec::from_json(spec_json);
  CHECK(spec.to_json()["samples"]["max_new_tokens"] == 6);
  CHECK(spec.identity_json().contains("samples"));
  const nlohmann::json r = run_experiment(spec);
  const auto& s = r.at("samples");
  CHECK(s["max_new_tokens"] == 6 && s["sampling"]["greedy"] == true && s["prompts"].size() == 2);
  bool any_divergence = false;
  for (const auto& p : s["prompts"]) {
    for (const char* side : {"fp", "quantized"}) {
      const auto& c = p[side];
      CHECK(c["ids"].size() == 6 && c["tokens"].size() == 6 && c["probs"].size() == 6 && c["text"].is_string());
    }
    const auto fp_ids = p["fp"]["ids"].get<std::vector<int64_t>>(), q_ids = p["quantized"]["ids"].get<std::vector<int64_t>>();
    const auto d = first_divergence(fp_ids, q_ids);
    CHECK(p["first_divergence"] == (d ? nlohmann::json(*d) : nlohmann::json(nullptr)));
    any_divergence = any_divergence || d.has_value();
  }
  CHECK(any_divergence);  // 2-bit weights change the greedy text of a 1.8 M-parameter model
  // The fp side is the full-precision model's own greedy continuation.
  at::NoGradGuard ng;
  auto model = Model::load(test::tiny());
  const Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  CHECK(s["prompts"][0]["fp"]["ids"].get<std::vector<int64_t>>() == generate(*model, tok, {"It is a truth"}, greedy(6))[0].ids);
}

TEST_CASE("samples spec: bounded, every key checked") {
  auto spec = [](nlohmann::json samples) {
    return ExperimentSpec::from_json({{"model", test::tiny()}, {"samples", samples}});
  };
  CHECK_THROWS_WITH(spec({{"prompts", nlohmann::json::array()}}), "at least one prompt");
  CHECK_THROWS_WITH(spec({{"prompts", {"a"}}, {"max_new_tokens", 0}}), "max_new_tokens");
  CHECK_THROWS_WITH(spec({{"prompts", {"a"}}, {"max_new_tokens", 100000}}), "1..256");
  CHECK_THROWS_WITH(spec({{"prompts", {"a", ""}}}), "prompt 2 is empty");
  CHECK_THROWS_WITH(spec({{"prompts", {"a"}}, {"temperature", 1}}), "temperature");
  CHECK_THROWS_WITH(spec({{"prompts", std::vector<std::string>(17, "x")}}), "at most 16");
  CHECK(first_divergence({1, 2, 3}, {1, 2, 3}) == std::nullopt);
  CHECK(first_divergence({1, 2, 3}, {1, 5, 3}) == std::optional<size_t>(1));
  CHECK(first_divergence({1, 2}, {1, 2, 3}) == std::optional<size_t>(2));
}
