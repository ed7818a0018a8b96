// lm-eval-harness task files as users export them (tests/data/*.jsonl, the HF datasets' fields):
// the exact prompt strings and choices lm-eval's doc_to_text / doc_to_choice / target produce per
// task, MMLU's description and few-shot examples, missing fields named with file and line, and
// the scores on austen-tiny against an independent unbatched forward.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/model/model.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/experiment/sweep.h"
#include "eval/experiment/sweep_validation.h"
#include "eval/tasks/lambada.h"
#include "eval/tasks/mc_tasks.h"
#include "eval/tasks/tasks.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

std::string data(const std::string& f) { return std::string(PTQ_SOURCE_DIR) + "/tests/data/" + f; }

std::string temp_file(const std::string& name, const std::string& content) {
  static const std::string dir = test::temp_dir("taskfiles");
  const std::string p = dir + "/" + name;
  write_file_atomic(p, content);
  return p;
}

using Strings = std::vector<std::string>;

// Σ log p(continuation | context) from one unbatched Model::forward (no truncation: short inputs).
double direct_logprob(Model& m, const LoglikRequest& r) {
  std::vector<int64_t> ids = r.context;
  ids.insert(ids.end(), r.continuation.begin(), r.continuation.end() - 1);
  const at::Tensor lp = m.forward(at::tensor(ids, at::kLong).unsqueeze(0))[0].log_softmax(-1);
  const int64_t L = int64_t(ids.size()), n = int64_t(r.continuation.size());
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += lp[L - n + j][r.continuation[size_t(j)]].item<double>();
  return s;
}

}  // namespace

TEST_CASE("ARC, PIQA, BoolQ exports: lm-eval's Question/Answer prompts and choices") {
  McTask e = load_mc_task(data("arc_easy.jsonl")), c = load_mc_task(data("arc_challenge.jsonl"));
  CHECK(e.format == "arc" && e.name == "arc_easy" && e.items.size() == 3 && e.has_norm);
  CHECK(e.items[0].contexts[0] == "Question: Which season follows summer?\nAnswer:" && e.items[0].gold == 1);
  CHECK(e.items[0].continuations == Strings({" spring", " autumn", " winter", " summer"}));
  CHECK(e.items[1].gold == 0 && e.items[1].contexts.size() == 3);  // answerKey "1" among labels "1", "2", "3"
  CHECK(c.items[0].contexts.size() == 5 && c.items[1].gold == 1);
  McTask p = load_mc_task(data("piqa.jsonl"));
  CHECK(p.format == "piqa" && p.items[1].contexts[0] == "Question: How do you seal a letter?\nAnswer:");
  CHECK(p.items[1].continuations == Strings({" Pour water over the fold.", " Press warm wax over the fold."}) && p.items[1].gold == 1);
  McTask b = load_mc_task(data("boolq.jsonl"));
  CHECK(b.format == "boolq" && !b.has_norm && b.items[0].gold == 1 && b.items[1].gold == 0);
  CHECK(b.items[0].contexts[1] ==
        "Bath is a city in the county of Somerset, known for its Roman baths.\nQuestion: is bath a city in somerset?\nAnswer:");
  CHECK(b.items[0].continuations == Strings({" no", " yes"}));
}

TEST_CASE("HellaSwag and WinoGrande exports: lm-eval's preprocess and partial scoring") {
  McTask h = load_mc_task(data("hellaswag.jsonl"));
  CHECK(h.format == "hellaswag" && h.has_norm && h.items[0].gold == 0);
  CHECK(h.items[0].contexts[0] == "Dancing: A gentleman bows to a lady at the assembly. She");
  CHECK(h.items[0].continuations == Strings({" curtseys and takes his hand.", " eats the piano.", " flies out of the window.",
                                             " reads a book. upside down."}));
  // " [title]" -> ". ", "[header]" removed, then one pass of "  " -> " ".
  CHECK(h.items[1].contexts[0] == "Writing a letter: How to write a letter. Take a sheet of paper. Then");
  McTask w = load_mc_task(data("winogrande.jsonl"));
  CHECK(w.format == "winogrande" && !w.has_norm && w.items[0].gold == 0);
  CHECK(w.items[0].contexts == Strings({"Emma gave Harriet advice because Emma", "Emma gave Harriet advice because Harriet"}));
  CHECK(w.items[0].continuations == Strings({" was sure of her own judgement.", " was sure of her own judgement."}));
  // Few-shot: the example is the gold option's context + the continuation.
  set_mc_fewshot(w, data("winogrande.jsonl"), 1);
  CHECK(mc_context(w, w.items[1], 1) == "Emma gave Harriet advice because Emma was sure of her own judgement.\n\n"
                                        "The letter did not fit in the box because the box");
}

TEST_CASE("MMLU exports: subject description, lettered choices, first-n dev examples of the subject") {
  McTask m = load_mc_task(data("mmlu.jsonl"));
  CHECK(m.format == "mmlu" && !m.has_norm && m.items[0].gold == 1 && m.items[0].group == "anatomy");
  CHECK(m.items[0].continuations == Strings({" A", " B", " C", " D"}));
  CHECK(mc_context(m, m.items[0], 0) ==
        "The following are multiple choice questions (with answers) about anatomy.\n\n"
        "Which organ pumps blood through the body?\nA. the lungs\nB. the heart\nC. the liver\nD. the skin\nAnswer:");
  set_mc_fewshot(m, data("mmlu-dev.jsonl"), 2);
  CHECK(mc_context(m, m.items[1], 3) ==
        "The following are multiple choice questions (with answers) about elementary mathematics.\n\n"
        "What is 1 + 1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: B\n\n"
        "What is 3 x 3?\nA. 6\nB. 9\nC. 12\nD. 33\nAnswer: B\n\n"
        "What is 2 + 3?\nA. 4\nB. 5\nC. 6\nD. 7\nAnswer:");
  CHECK_THROWS_WITH(set_mc_fewshot(m, data("mmlu-dev.jsonl"), 3), "has 2 items of subject 'anatomy', 3 asked");
  CHECK_THROWS_WITH(set_mc_fewshot(m, data("piqa.jsonl"), 1), "holds piqa items, task mmlu is mmlu");
  McTask a = load_mc_task(data("arc_challenge.jsonl"));
  set_mc_fewshot(a, data("arc_easy.jsonl"), 1);
  CHECK(mc_context(a, a.items[1], 0) == "Question: Which season follows summer?\nAnswer: autumn\n\nQuestion: Why does ice float on water?\nAnswer:");
}

TEST_CASE("task files with a missing field: the error names the file, the line and the field") {
  const struct {
    const char* name;
    std::string good, bad, field;
  } cases[] = {
      {"arc", R"({"question": "q", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "A"})",
       R"({"choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "A"})", "question"},
      {"hellaswag", R"({"activity_label": "x", "ctx_a": "a", "ctx_b": "b", "endings": ["e", "f"], "label": "0"})",
       R"({"ctx_a": "a", "ctx_b": "b", "endings": ["e", "f"], "label": "0"})", "activity_label"},
      {"piqa", R"({"goal": "g", "sol1": "a", "sol2": "b", "label": 0})", R"({"goal": "g", "sol1": "a", "label": 0})", "sol2"},
      {"winogrande", R"({"sentence": "a _ b", "option1": "x", "option2": "y", "answer": "1"})",
       R"({"sentence": "a _ b", "option1": "x", "option2": "y"})", "answer"},
      {"boolq", R"({"passage": "p", "question": "q", "label": 0})", R"({"passage": "p", "label": 0})", "question"},
      {"mmlu", R"({"question": "q", "subject": "s", "choices": ["a", "b", "c", "d"], "answer": 0})",
       R"({"question": "q", "subject": "s", "choices": ["a", "b", "c", "d"]})", "answer"},
  };
  for (const auto& c : cases) {
    const std::string f = temp_file(std::string(c.name) + ".jsonl", c.good + "\n" + c.good + "\n\n" + c.bad + "\n");
    CHECK_THROWS_WITH(load_mc_task(f), "/" + std::string(c.name) + ".jsonl' line 4: missing field \"" + c.field + "\"");
  }
  CHECK_THROWS_WITH(load_mc_task(temp_file("mmlu3.jsonl", R"({"question": "q", "subject": "s", "choices": ["a", "b", "c"], "answer": 0})")),
                    "line 1: field \"choices\" must hold 4 answers (MMLU), got 3");
  CHECK_THROWS_WITH(load_lambada(temp_file("lambada_bad.jsonl", "{\"text\": \"a b\"}\n{\"txt\": \"a b\"}\n")), "line 2");
}

TEST_CASE("every lm-eval fixture scored on austen-tiny: argmax of the unbatched log-likelihoods") {
  at::NoGradGuard ng;
  auto model = Model::load(test::tiny());
  const Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  for (const char* f : {"arc_easy", "arc_challenge", "hellaswag", "piqa", "winogrande", "boolq", "mmlu"}) {
    McTask t = load_mc_task(data(std::string(f) + ".jsonl"));
    if (t.format == "mmlu") set_mc_fewshot(t, data("mmlu-dev.jsonl"), 1);
    int64_t right = 0, right_norm = 0;
    for (const McItem& it : t.items) {
      size_t best = 0, best_norm = 0;
      std::vector<double> ll, norm;
      for (size_t c = 0; c < it.contexts.size(); ++c) {
        ll.push_back(direct_logprob(*model, encode_pair(tok, mc_context(t, it, c), it.continuations[c])));
        norm.push_back(ll.back() / double(it.norm_bytes[c]));
        if (ll[c] > ll[best]) best = c;
        if (norm[c] > norm[best_norm]) best_norm = c;
      }
      right += int(best) == it.gold, right_norm += int(best_norm) == it.gold;
    }
    const TaskScore s = run_mc_task(*model, tok, t);
    const double n = double(t.items.size());
    // Batched and unbatched log-likelihoods agree within 1e-4 (test_tasks); no item of these
    // fixtures has two choices that close, so the argmax and the accuracy are equal exactly.
    CHECK(s.n == int64_t(t.items.size()));
    CHECK_NEAR(s.acc, double(right) / n, 1e-12);
    if (t.has_norm) CHECK_NEAR(s.acc_norm, double(right_norm) / n, 1e-12);
    std::printf("%s: acc %.3f acc_norm %.3f n %lld\n", f, s.acc, s.acc_norm, (long long)s.n);
  }
}

TEST_CASE("specs name task and few-shot files: round trip, identity, validation before any run") {
  ExperimentSpec s;
  s.model_dir = test::tiny();
  s.task_files = {data("mmlu.jsonl"), data("gsm8k.jsonl"), data("lambada_openai.jsonl")};
  const std::string id_plain = s.run_id();
  CHECK(!s.identity_json().contains("num_fewshot"));  // specs without few-shot keep their run ids
  CHECK(run_problems({s}).empty());                    // generation and LAMBADA files pass the check too
  s.fewshot.num = 1;
  s.fewshot.files = {{"mmlu", data("mmlu-dev.jsonl")}, {"gsm8k", data("gsm8k-train.jsonl")}};
  CHECK(s.run_id() != id_plain);
  const ExperimentSpec back = ExperimentSpec::from_json(s.to_json());
  CHECK(back.fewshot.num == 1 && back.fewshot.files == s.fewshot.files);
  CHECK(run_problems({s}).empty());
  ExperimentSpec bad = s;
  bad.fewshot.files["mmlu"] = data("piqa.jsonl");
  const auto problems = run_problems({bad});
  CHECK(problems.size() == 1 && problems[0].problem.find("holds piqa items, task mmlu is mmlu") != std::string::npos);
  json j = s.to_json();
  j["fewshot"] = {{"mmlu", 3}};
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "'mmlu' must name a file");
  j = s.to_json();
  j["num_fewshot"] = 0;
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "'fewshot' files need 'num_fewshot' > 0");
  j.erase("fewshot");
  j["num_fewshot"] = 2;
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "needs 'fewshot' files");
  // A sweep carries them to every run, paths resolved against the spec's folder.
  const json sw = {{"models", {test::tiny()}}, {"methods", {"fp"}}, {"tasks", {"mmlu.jsonl"}}, {"num_fewshot", 2},
                   {"fewshot", {{"mmlu", "mmlu-dev.jsonl"}}}};
  const SweepSpec sweep = SweepSpec::from_json(sw, std::string(PTQ_SOURCE_DIR) + "/tests/data");
  CHECK(sweep.fewshot.num == 2 && sweep.fewshot.files.at("mmlu") == data("mmlu-dev.jsonl"));
}

TEST_CASE("evaluate_tasks: few-shot options, generation tasks through a given decoder or the engine's") {
  at::NoGradGuard ng;
  auto model = Model::load(test::tiny());
  const Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  TaskOptions o;
  o.task_files = {data("mmlu.jsonl"), data("gsm8k.jsonl")};
  o.num_fewshot = 1;
  o.fewshot_files = {{"mmlu", data("mmlu-dev.jsonl")}};
  CHECK_THROWS_WITH(check_task_files(o), "num_fewshot 1 needs a few-shot file for task 'gsm8k'");
  o.fewshot_files["gsm8k"] = data("gsm8k-train.jsonl");
  o.fewshot_files["arc"] = data("arc_easy.jsonl");
  CHECK_THROWS_WITH(check_task_files(o), "is for task 'arc', which is not among the task files");
  o.fewshot_files.erase("arc");
  check_task_files(o);
  // Without a decoder given, the engine's greedy decoder runs the generation task.
  const json engine = evaluate_tasks(*model, tok, o);
  CHECK(engine["gsm8k"]["n"] == 3 && engine["gsm8k"]["acc"].get<double>() >= 0 && engine["mmlu"]["n"] == 2);
  std::vector<std::string> seen;
  GenerateFn echo_six = [&](const std::vector<std::string>& prompts, int, const std::vector<std::string>&) {
    seen = prompts;
    return std::vector<std::string>(prompts.size(), " so 6.\n#### 6");
  };
  const json t = evaluate_tasks(*model, tok, o, echo_six);
  CHECK(seen.size() == 3 && seen[0].rfind("Question: Mary has 2 sisters", 0) == 0);  // the first train example leads
  CHECK_NEAR(t["gsm8k"]["acc"].get<double>(), 1.0 / 3, 1e-15);  // only item 1's answer is 6
  CHECK(t["gsm8k"]["num_fewshot"] == 1 && t["mmlu"]["num_fewshot"] == 1 && t["mmlu"]["n"] == 2);
  McTask m = load_mc_task(data("mmlu.jsonl"));
  set_mc_fewshot(m, data("mmlu-dev.jsonl"), 1);
  CHECK_NEAR(t["mmlu"]["acc"].get<double>(), run_mc_task(*model, tok, m).acc, 1e-15);
}

TEST_MAIN()
