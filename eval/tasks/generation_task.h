#pragma once
// Exact-match generation tasks as lm-evaluation-harness's generate_until tasks: a few-shot prompt,
// a greedy continuation cut at the task's stop strings, answers extracted by regex filters, exact
// match against the target. Decoding is not done here: the tasks take a GenerateFn (the decoder's
// contract, eval/generation/generate.h declares the same type), so scoring is testable with any
// deterministic function.
//
// Task files are JSONL, one object per line, all lines in one format:
//   gsm8k       {"question", "answer"} (openai/gsm8k "main"; answer ends "#### N"), as lm-eval's
//               tasks/gsm8k/gsm8k.yaml (version 3.0): prompt "Question: {question}\nAnswer:",
//               few-shot examples "Question: {q}\nAnswer: {answer}\n\n", until "Question:",
//               "</s>", "<|im_end|>", 256 new tokens; filters strict-match (regex
//               "#### (\-?[0-9\.\,]+)", first match) and flexible-extract (regex
//               "(-?[$0-9.,]{2,})|(-?[0-9]+)", last match); exact_match ignoring case and
//               the regexes ",", "\$", "(?s).*#### ", "\.$" on both sides.
//   completion  {"prompt", "target"}: prompt verbatim, few-shot examples "{prompt} {target}\n\n",
//               until "\n", 16 new tokens; filters first-word (the first run of ASCII letters and
//               digits: "Darcy's" gives "Darcy") and strict-match (the whole continuation, stripped); exact_match
//               with case kept. (This project's format; resources/tasks/austen-names.jsonl.)
// Recorded as metrics.tasks[name] = {"acc": first filter's exact match, "exact_match":
// {filter: value}, "n", "num_fewshot"}.
#include <nlohmann/json.hpp>
#include <functional>
#include <string>
#include <vector>

namespace ptq {

// Greedy continuations of `prompts` (text only, each cut before its first stop string), at most
// max_new_tokens tokens each. The decoder's make_greedy_generate_fn(Model&, const Tokenizer&)
// returns one (eval/generation/generate.h).
using GenerateFn = std::function<std::vector<std::string>(const std::vector<std::string>& prompts, int max_new_tokens,
                                                          const std::vector<std::string>& stop)>;

// lm-eval's RegexFilter followed by take_first: findall(pattern, response); the match at
// group_select (negative counts from the end); with several groups, the first non-empty one;
// stripped; "[invalid]" when nothing matches. An empty pattern keeps the whole response, stripped.
struct AnswerFilter {
  std::string name, pattern;
  int group_select = 0;
};
std::string apply_answer_filter(const AnswerFilter& f, const std::string& response);

// lm-eval's exact_match (metrics.exact_match_hf_evaluate) with the options a task sets.
struct ExactMatchOptions {
  bool ignore_case = false;
  bool gsm8k_ignores = false;  // drop ",", "$", everything up to the last "#### ", a final "."
};
std::string normalize_for_match(const std::string& s, const ExactMatchOptions& o);
bool exact_match(const std::string& prediction, const std::string& reference, const ExactMatchOptions& o);

struct GenItem {
  std::string prompt;  // doc_to_text
  std::string target;  // doc_to_target
};

struct GenerationTask {
  std::string name, format;          // format: gsm8k, completion
  std::vector<GenItem> items;
  std::vector<GenItem> fewshot_pool;  // examples for the prompt (a train/dev file), first num_fewshot used
  int num_fewshot = 0;
  std::vector<std::string> until;
  int max_new_tokens = 0;
  std::vector<AnswerFilter> filters;
  ExactMatchOptions match;
};

// Detects the format of one line's object (gsm8k or completion); "" when it is neither.
std::string generation_format_of(const nlohmann::json& j);
// True when the file's first non-blank line is a generation item.
bool is_generation_file(const std::string& path);
// Reads a JSONL generation file (name: task_name_of); errors name the file, the line and the field.
GenerationTask load_generation_task(const std::string& path);
// Reads `path` as few-shot examples of `task` (same format) and uses the first k of them; throws
// when the file has fewer than k items or another format.
void set_generation_fewshot(GenerationTask& task, const std::string& path, int k);

// The full prompt of an item: the first num_fewshot examples of the pool, then item.prompt.
std::string generation_prompt(const GenerationTask& task, const GenItem& item);

// Scores continuations (one per item, in order): {"acc", "exact_match": {filter: v}, "n", "num_fewshot"}.
nlohmann::json score_generations(const GenerationTask& task, const std::vector<std::string>& continuations);

// Builds the prompts of the first `limit` items (0 = all), calls `generate` once for all of them and
// scores the continuations. Throws ptq::Error when generate returns a different count.
nlohmann::json run_generation_task(const GenerationTask& task, const GenerateFn& generate, int64_t limit = 0);

}  // namespace ptq
