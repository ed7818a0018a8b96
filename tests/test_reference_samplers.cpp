// The reference calibration samplers: CPython's Mersenne Twister and randint (IST-DASLab/gptq's
// window offsets), llm-awq's documents -> blocks, and each method's default sampler.
#include <ATen/ATen.h>

#include <fstream>
#include <map>

#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/experiment/sweep.h"
#include "quant/pipeline/calibration.h"
#include "quant/pipeline/python_random.h"
#include "quant/pipeline/reference_samplers.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

std::string small_tokenizer() { return test::shared_dir() + "/models/austen-small/tokenizer.json"; }

void check_offsets(int64_t ntokens, int64_t seqlen, uint64_t seed, const std::vector<int64_t>& expected) {
  const auto got = gptq_reference_offsets(ntokens, int64_t(expected.size()), seqlen, seed);
  CHECK(got.size() == expected.size());
  for (size_t i = 0; i < got.size() && i < expected.size(); ++i)
    CHECK_MSG(got[i] == expected[i], "offset " + std::to_string(i) + ": " + std::to_string(got[i]) + " vs CPython " +
                                         std::to_string(expected[i]));
}

}  // namespace

// Expected values: tests/reference/python_random_offsets.py under CPython 3.11.7 (the sampler is
// the same in every CPython 3.2+). Exact integers: any difference in seeding, tempering, the
// getrandbits word order or the rejection loop changes them.
TEST_CASE("gptq sampler: window offsets equal CPython's random.seed + randint") {
  check_offsets(1000000, 2048, 0, {885440, 403958, 794772, 933488, 441001, 42450, 271493, 536110, 509532, 424604,
                                   962838, 821872, 870163, 318046, 499748, 375441});
  // A small range: _randbelow rejects often, so a wrong rejection rule shifts every later value.
  check_offsets(300, 17, 5, {130, 183, 271, 14, 238, 127, 26, 80, 57, 190, 240, 126,
                             194, 278, 52, 127, 6, 110, 208, 143, 93, 199, 81, 36});
  // A seed of two 32-bit words: init_by_array with key length 2.
  check_offsets(5000, 512, (uint64_t(1) << 40) + 3, {1800, 498, 775, 2491, 3489, 1918, 3860, 2700});
  // A range wider than 32 bits: getrandbits(k > 32) from two words.
  check_offsets((int64_t(1) << 33) + 7, 2048, 1,
                {4872057333, 7934667487, 3280387012, 1095513148, 6422844795, 1930549411});
  // random.seed(0); random.getrandbits(32) == 3626764237 (CPython 3.11.7).
  PythonRandom r(0);
  CHECK(r.genrand_uint32() == 3626764237u);
  CHECK_THROWS_WITH(gptq_reference_offsets(512, 4, 512, 0), "too few for windows of 512");
}

// austen-valid tokenized by the models' tokenizer (no special tokens: its post-processor is
// ByteLevel, so Hugging Face's tokenizer(text) adds none either; the token count is this
// tokenizer's, which the tokenizer tests hold to Hugging Face's encodings) has 112481 tokens; the
// offsets below are the first 8 of `python3 tests/reference/python_random_offsets.py 112481`.
TEST_CASE("gptq sampler: calibration windows are the text at CPython's offsets") {
  const Tokenizer tok = Tokenizer::from_file(small_tokenizer());
  CalibSpec s;
  s.files = {test::corpus("austen-valid.txt")};
  s.nsamples = 8;
  s.seqlen = 512;
  s.sampling = "gptq";
  std::string text = read_text_file(s.files[0]);
  if (!text.empty() && text.back() != '\n') text += "\n";
  const auto ids = tok.encode(text);
  const int64_t kValidTokens = 112481;
  CHECK_MSG(int64_t(ids.size()) == kValidTokens, "austen-valid has " + std::to_string(ids.size()) + " tokens");
  const std::vector<int64_t> expected = {110680, 50494, 99346, 55125, 5306, 33936, 67013, 63691};
  const at::Tensor w = calibration_windows(tok, s);
  CHECK(w.size(0) == 8 && w.size(1) == 512);
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t t = 0; t < 512; t += 97)
      CHECK(w[i][t].item<int64_t>() == ids[size_t(expected[size_t(i)] + t)]);
}

TEST_CASE("llm-awq sampler: stripped paragraphs, empty and long ones skipped, blocks of seqlen") {
  const Tokenizer tok = Tokenizer::from_file(small_tokenizer());
  std::string longp;
  for (int i = 0; i < 400; ++i) longp += "Emma Woodhouse, handsome, clever. ";
  const std::string text = "  It is a truth universally acknowledged.  \n\n\n   \n\nA single man\nin possession.\n\n" +
                           longp + "\n\nOf a good fortune must be in want of a wife.\n\nUnused paragraph.\n";
  const auto paras = text_paragraphs(text);
  CHECK(paras.size() == 5);
  CHECK(paras[0] == "It is a truth universally acknowledged.");
  CHECK(paras[1] == "A single man\nin possession.");
  CHECK(tok.encode(paras[2]).size() > 512);  // skipped
  std::vector<int64_t> cat;
  for (int i : {0, 1, 3}) {
    const auto e = tok.encode(paras[size_t(i)]);
    cat.insert(cat.end(), e.begin(), e.end());
  }
  const std::string f = test::temp_dir("llm-awq") + "/calib.txt";
  std::ofstream(f) << text;
  CalibSpec s;
  s.files = {f};
  s.nsamples = 3;  // three kept documents: the fifth paragraph is not read
  s.seqlen = 4;
  s.sampling = "llm-awq";
  const at::Tensor w = calibration_windows(tok, s);
  CHECK(w.size(0) == int64_t(cat.size()) / 4 && w.size(1) == 4);
  for (int64_t i = 0; i < w.numel(); ++i) CHECK(w.reshape({-1})[i].item<int64_t>() == cat[size_t(i)]);
  s.seqlen = 1000;
  CHECK_THROWS_WITH(calibration_windows(tok, s), "fewer than one block of 1000");
}

TEST_CASE("each method's reference sampler is its default, and it is part of the run identity") {
  CHECK(default_calib_sampling("gptq") == "gptq");
  CHECK(default_calib_sampling("rtn") == "gptq");
  CHECK(default_calib_sampling("awq") == "llm-awq");
  CHECK(default_calib_sampling("awq+gptq") == "llm-awq");
  CHECK(default_calib_sampling("rotate+gptq") == "gptq");
  CHECK(default_calib_sampling("owq") == "gptq");
  auto spec = [](const std::string& method, const char* sampling) {
    nlohmann::json j = {{"model", "/m"}, {"method", method},
                        {"calibration", {{"files", {"/c.txt"}}, {"nsamples", 4}, {"seqlen", 64}}}};
    if (sampling) j["calibration"]["sampling"] = sampling;
    return ExperimentSpec::from_json(j);
  };
  CHECK(spec("gptq", nullptr).calib.sampling == "gptq");
  CHECK(spec("awq", nullptr).calib.sampling == "llm-awq");
  CHECK(spec("gptq", "random").calib.sampling == "random");
  CHECK(spec("gptq", nullptr).run_id() != spec("gptq", "random").run_id());
  CHECK(spec("gptq", nullptr).run_id().find("-gptq.") != std::string::npos);
  CHECK_THROWS_WITH(spec("gptq", "python"), "allowed: random, awq, gptq, llm-awq");
}

TEST_CASE("a sweep's calibration without sampling draws each method's reference sampler") {
  const nlohmann::json j = {{"models", {"/m"}}, {"methods", {"gptq", "awq", "rtn"}}, {"bits", {4}}, {"groups", {128}},
                            {"calibration", {{{"files", {"/c.txt"}}, {"nsamples", 4}, {"seqlen", 64}}}}};
  std::map<std::string, std::string> by_method;
  for (const auto& e : SweepSpec::from_json(j).expand()) by_method[e.method] = e.calib.sampling;
  CHECK(by_method["gptq"] == "gptq");
  CHECK(by_method["awq"] == "llm-awq");
  nlohmann::json k = j;
  k["calibration"][0]["sampling"] = "random";
  for (const auto& e : SweepSpec::from_json(k).expand())
    if (!e.calib.files.empty()) CHECK(e.calib.sampling == "random");
}
