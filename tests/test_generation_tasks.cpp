// Generation tasks (eval/tasks/generation_task.h): lm-eval's regex filters and exact_match on
// hand-worked responses, GSM8K prompts with few-shot examples, scoring through deterministic fake
// decoders, bad files, and the shipped Austen task on austen-tiny with a reference greedy decoder.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <map>

#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/text/tokenizer.h"
#include "eval/tasks/generation_task.h"
#include "eval/tasks/mc_tasks.h"
#include "eval/generation/generate.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

std::string data(const std::string& f) { return std::string(PTQ_SOURCE_DIR) + "/tests/data/" + f; }
std::string resource(const std::string& f) { return std::string(PTQ_SOURCE_DIR) + "/resources/" + f; }

std::string temp_file(const std::string& name, const std::string& content) {
  static const std::string dir = test::temp_dir("gentasks");
  const std::string p = dir + "/" + name;
  write_file_atomic(p, content);
  return p;
}

const AnswerFilter kStrict{"strict-match", "#### (-?[0-9.,]+)", 0};
const AnswerFilter kFlexible{"flexible-extract", "(-?[$0-9.,]{2,})|(-?[0-9]+)", -1};

// Greedy decoding by recomputing the whole sequence each step (no cache): the reference the real
// decoder must equal. Cuts at the first stop string, as the GenerateFn contract says.
GenerateFn recompute_greedy(Model& m, const Tokenizer& tok) {
  return [&m, &tok](const std::vector<std::string>& prompts, int max_new, const std::vector<std::string>& stop) {
    std::vector<std::string> out;
    for (const auto& p : prompts) {
      std::vector<int64_t> ids = tok.encode(p), gen;
      std::string text;
      for (int s = 0; s < max_new; ++s) {
        const at::Tensor logits = m.forward(at::tensor(ids, at::kLong).unsqueeze(0))[0][-1];
        const int64_t next = logits.argmax().item<int64_t>();
        if (next == 0) break;  // <|endoftext|>, the models' EOS
        ids.push_back(next), gen.push_back(next);
        text = tok.decode(gen);
        size_t cut = std::string::npos;
        for (const auto& st : stop) cut = std::min(cut, text.find(st));
        if (cut != std::string::npos) {
          text = text.substr(0, cut);
          break;
        }
      }
      out.push_back(text);
    }
    return out;
  };
}

}  // namespace

TEST_CASE("lm-eval's gsm8k filters: strict-match and flexible-extract as Python's findall") {
  const std::string worked = " She sells 16 - 3 - 4 = 9 eggs and makes 9 * 2 = $18.\n#### 18";
  CHECK(apply_answer_filter(kStrict, worked) == "18");
  // findall: 16, 3 and 4 (second group), 9, 9, 2, "$18." (first group, 2+ chars), 18; the last.
  CHECK(apply_answer_filter(kFlexible, worked) == "18");
  CHECK(apply_answer_filter(kFlexible, "The answer is 7 and then 1, 2.") == "2.");  // "1," and "2." are 2-char matches
  CHECK(apply_answer_filter(kStrict, "The answer is 18.") == "[invalid]");
  CHECK(apply_answer_filter(kFlexible, "no digits here") == "[invalid]");
  CHECK(apply_answer_filter(kStrict, "#### -1,000.5 and #### 3") == "-1,000.5");  // take_first
  CHECK(apply_answer_filter({"first-word", "[A-Za-z0-9']+", 0}, " Walter's, said he") == "Walter's");
  CHECK(apply_answer_filter({"strict-match", "", 0}, "  Walter Elliot \n") == "Walter Elliot");
}

TEST_CASE("lm-eval's gsm8k exact_match: regexes_to_ignore and ignore_case on both sides") {
  ExactMatchOptions g;
  g.ignore_case = g.gsm8k_ignores = true;
  CHECK(normalize_for_match("He owes 1,200.\n#### 1,000", g) == "1000");
  CHECK(normalize_for_match("a #### b #### $7.", g) == "7");  // up to the last "#### " ((?s).* is greedy)
  CHECK(normalize_for_match("5.\n", g) == "5\n");              // Python's "$" before a final newline
  CHECK(normalize_for_match("ABC", g) == "abc");
  CHECK(exact_match("1,000", "pays.\n#### 1,000", g));
  CHECK(exact_match("$18.", "#### 18", g));
  CHECK(!exact_match("18.5", "#### 18", g));
  CHECK(!exact_match("Walter", "walter", ExactMatchOptions{}));
}

TEST_CASE("gsm8k files: lm-eval's prompt, few-shot examples, stop strings and token budget") {
  GenerationTask t = load_generation_task(data("gsm8k.jsonl"));
  CHECK(t.name == "gsm8k" && t.format == "gsm8k" && t.items.size() == 3 && t.num_fewshot == 0);
  CHECK(t.until == std::vector<std::string>({"Question:", "</s>", "<|im_end|>"}) && t.max_new_tokens == 256);
  CHECK(generation_prompt(t, t.items[0]) ==
        "Question: Anne walks 3 miles to Uppercross and 3 miles back. How many miles does she walk?\nAnswer:");
  set_generation_fewshot(t, data("gsm8k-train.jsonl"), 2);
  CHECK(generation_prompt(t, t.items[2]) ==
        "Question: Mary has 2 sisters and 1 brother. How many siblings does she have?\nAnswer: 2 + 1 = <<2+1=3>>3\n#### 3\n\n"
        "Question: A carriage carries 4 people. How many carriages carry 12 people?\nAnswer: 12 / 4 = <<12/4=3>>3\n#### 3\n\n"
        "Question: The Musgroves have 8 children; 3 are at school. How many are at home?\nAnswer:");
  CHECK_THROWS_WITH(set_generation_fewshot(t, data("gsm8k-train.jsonl"), 4), "has 3 items, 4 asked");
  // The test file as its own few-shot source: never an item as its own example (lm-eval's rm_eval_doc).
  set_generation_fewshot(t, data("gsm8k.jsonl"), 2);
  CHECK(generation_prompt(t, t.items[0]).rfind("Question: Sir Walter owes", 0) == 0);
  CHECK(generation_prompt(t, t.items[2]).rfind("Question: Anne walks", 0) == 0);
  CHECK_THROWS_WITH(set_generation_fewshot(t, data("gsm8k.jsonl"), 3), "has 2 items, 3 asked");
  CHECK_THROWS_WITH(set_generation_fewshot(t, resource("tasks/austen-names.jsonl"), 1), "holds completion items");
}

TEST_CASE("generation scoring through fake decoders: every filter, counts, limits") {
  GenerationTask t = load_generation_task(data("gsm8k.jsonl"));
  int calls = 0;
  GenerateFn fake = [&](const std::vector<std::string>& prompts, int max_new, const std::vector<std::string>& stop) {
    ++calls;
    CHECK(max_new == 256 && stop.size() == 3 && stop[0] == "Question:");
    // Item 1: right both ways; item 2: "1,000" right (commas ignored) only by strict-match's
    // "####" (flexible takes the last number, 10); item 3: no "####", flexible finds 5.
    const std::map<std::string, std::string> canned = {
        {"walk?\nAnswer:", " 3 + 3 = 6.\n#### 6"}, {"owe?\nAnswer:", " #### 1,000 after 10"}, {"home?\nAnswer:", " It is 5."}};
    std::vector<std::string> out;
    for (const auto& p : prompts)
      for (const auto& [end, text] : canned)
        if (p.size() >= end.size() && p.compare(p.size() - end.size(), end.size(), end) == 0) out.push_back(text);
    return out;
  };
  json s = run_generation_task(t, fake);
  CHECK(calls == 1 && s["n"] == 3 && s["num_fewshot"] == 0);
  CHECK_NEAR(s["exact_match"]["strict-match"].get<double>(), 2.0 / 3, 1e-15);
  CHECK_NEAR(s["exact_match"]["flexible-extract"].get<double>(), 2.0 / 3, 1e-15);  // items 1 and 3
  CHECK(s["acc"] == s["exact_match"]["strict-match"]);
  json l = run_generation_task(t, fake, 1);
  CHECK(l["n"] == 1 && l["acc"] == 1.0);
  GenerateFn short_fn = [](const std::vector<std::string>&, int, const std::vector<std::string>&) {
    return std::vector<std::string>{"#### 6"};
  };
  CHECK_THROWS_WITH(run_generation_task(t, short_fn), "returned 1 continuations for 3 prompts");
  CHECK_THROWS_WITH(run_generation_task(t, GenerateFn{}), "needs a decoder");
}

TEST_CASE("generation files: missing fields and mixed formats name the file, line and field") {
  CHECK(is_generation_file(data("gsm8k.jsonl")) && is_generation_file(resource("tasks/austen-names.jsonl")));
  CHECK(!is_generation_file(resource("tasks/austen-piqa.jsonl")));
  const std::string ok = R"({"question": "q", "answer": "#### 1"})";
  const std::string f1 = temp_file("gsm-missing.jsonl", ok + "\n\n" + R"({"question": "q2"})" + "\n");
  CHECK_THROWS_WITH(load_generation_task(f1), "gsm-missing.jsonl' line 3: missing field \"answer\"");
  const std::string f2 = temp_file("gsm-type.jsonl", ok + "\n" + R"({"question": 4, "answer": "#### 1"})" + "\n");
  CHECK_THROWS_WITH(load_generation_task(f2), "line 2: field \"question\" must be a string");
  const std::string f3 = temp_file("mixed.jsonl", ok + "\n" + R"({"prompt": "p", "target": "t"})" + "\n");
  CHECK_THROWS_WITH(load_generation_task(f3), "line 2: a completion item in a gsm8k file");
  const std::string f4 = temp_file("empty-target.jsonl", R"({"prompt": "p", "target": " "})");
  CHECK_THROWS_WITH(load_generation_task(f4), "line 1: field \"target\" is empty");
  CHECK_THROWS_WITH(load_generation_task(temp_file("none.jsonl", "\n")), "has no items");
}

SLOW_TEST_CASE("austen-names on austen-tiny: greedy copies of a name from the paragraph, scored first-word") {
  at::NoGradGuard ng;
  auto model = Model::load(test::tiny());
  const Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  const GenerationTask t = load_generation_task(resource("tasks/austen-names.jsonl"));
  CHECK(t.format == "completion" && t.items.size() == 30 && t.max_new_tokens == 16 && t.until[0] == "\n");
  CHECK(t.items[1].prompt == "They remained but a few minutes together, as Miss Woodhouse must not be\nkept waiting; and Harriet "
                             "then came running to her with a smiling face,\nand in a flutter of spirits, which Miss");
  json s = run_generation_task(t, recompute_greedy(*model, tok));
  // Cross-check with the log-likelihood path: where greedy decoding yields every token of
  // " " + target (LoglikResult.greedy), the continuation starts with the name, so first-word is
  // right there; first-word may also be right elsewhere (other tokenizations of the same word).
  std::vector<LoglikRequest> reqs;
  for (const auto& it : t.items) reqs.push_back(encode_pair(tok, it.prompt, " " + it.target));
  int64_t greedy_right = 0;
  for (const auto& r : loglikelihoods(*model, reqs)) greedy_right += r.greedy;
  const double first_word = s["exact_match"]["first-word"].get<double>();
  std::printf("austen-names first-word %.4f strict %.4f greedy-ll %lld/30\n", first_word,
              s["exact_match"]["strict-match"].get<double>(), (long long)greedy_right);
  CHECK(s["n"] == 30 && s["acc"] == first_word);
  CHECK(first_word * 30 >= double(greedy_right) - 1e-9 && greedy_right >= 5);
  // Measured: 6 of 30 (Bertram, Crawford, Thomas, Bertram, Darcy's, Jennings), strict-match 1 of 30;
  // these are greedy argmaxes of a float32 model, stable to the last bit on CPU: exact counts.
  CHECK(std::lround(first_word * 30) == 6);
  CHECK(std::lround(s["exact_match"]["strict-match"].get<double>() * 30) == 1);
  CHECK(s["exact_match"]["strict-match"].get<double>() <= first_word);
  // The engine's cached decoder (eval/generation/generate.h), the one tasks run with, writes the
  // same continuations as recomputing every step, so the same scores.
  std::vector<std::string> prompts;
  for (const auto& it : t.items) prompts.push_back(it.prompt);
  const auto ref = recompute_greedy(*model, tok)(prompts, t.max_new_tokens, t.until);
  const auto got = make_greedy_generate_fn(*model, tok)(prompts, t.max_new_tokens, t.until);
  for (size_t i = 0; i < prompts.size(); ++i) CHECK_MSG(got[i] == ref[i], "item " + std::to_string(i) + ": '" + got[i] + "' vs '" + ref[i] + "'");
  CHECK(run_generation_task(t, make_greedy_generate_fn(*model, tok)) == s);
}

TEST_MAIN()
