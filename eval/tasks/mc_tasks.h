#pragma once
// Multiple-choice accuracy tasks scored by log-likelihood, as lm-evaluation-harness does: each
// choice is a request (context, continuation); its score is Σ log p(continuation tokens | context);
// acc = argmax score is the gold choice, acc_norm = argmax score / (UTF-8 byte length of the choice
// text) is (lm-eval divides by len(choice), the same for ASCII). Ties go to the first choice.
//
// Task files are JSONL, one object per line (blank lines skipped), all lines in one format:
//   generic    {"context" | "query": str, "choices": [str], "gold" | "label" | "answer": int}
//              prompt = context, continuation = " " + choice                      acc, acc_norm
//   piqa       {"goal", "sol1", "sol2", "label"}: "Question: {goal}\nAnswer:"      acc, acc_norm
//   arc        {"question", "choices": {"text": [..], "label": [..]}, "answerKey"}
//              "Question: {question}\nAnswer:", gold = index of answerKey in labels  acc, acc_norm
//   hellaswag  {"activity_label", "ctx_a", "ctx_b" (or "ctx"), "endings", "label"}: lm-eval's
//              preprocessing (" [title]" -> ". ", [..] removed, ctx_b capitalized)   acc, acc_norm
//   winogrande {"sentence" with "_", "option1", "option2", "answer": "1"|"2"}: partial scoring,
//              context = sentence up to "_" + option, continuation = " " + rest     acc
//   boolq      {"passage", "question", "answer": bool | "label": int}:
//              "{passage}\nQuestion: {question}?\nAnswer:", choices " no" / " yes"   acc
//   mmlu       {"question", "subject", "choices": [4 strings], "answer": int}: description "The
//              following are multiple choice questions (with answers) about {subject, _ -> space}.\n\n",
//              "{question.strip()}\nA. {c0}\nB. {c1}\nC. {c2}\nD. {c3}\nAnswer:", choices " A".." D"  acc
// Few-shot (set_mc_fewshot): the first k items of a dev/train file in the same format (MMLU: of the
// item's subject, lm-eval's first_n sampler), each "{context of the gold choice}{" " + gold choice}\n\n",
// after the description and before the item's context (lm-eval's fewshot_context). lm-eval's
// default sampler draws k at random (seed 1234) instead: order the file to choose.
// docs/task-files.md tabulates the fields per format.
// Tokenization follows lm-eval's _encode_pair (see encode_pair).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "core/text/tokenizer.h"

namespace ptq {

class Model;

// One scored request: log p(continuation | context).
struct LoglikRequest {
  std::vector<int64_t> context, continuation;
};
struct LoglikResult {
  double logprob = 0;   // Σ log p over the continuation tokens
  bool greedy = false;  // every continuation token is the argmax at its position
};

// lm-eval's _encode_pair: trailing whitespace of the context moves to the front of the
// continuation; the continuation's tokens are encode(context + continuation) after the first
// len(encode(context)) tokens. Throws ptq::Error when either part has no tokens.
LoglikRequest encode_pair(const Tokenizer& tok, const std::string& context, const std::string& continuation);

// Scores requests with the model's forward pass (run_windows, then the head on the scored
// positions only), batching requests of similar length (right padding, which causal attention
// keeps out of the scored positions). Inputs longer than the model's max_position_embeddings keep
// their last tokens (as lm-eval).
std::vector<LoglikResult> loglikelihoods(Model& model, const std::vector<LoglikRequest>& reqs, Feedback* fb = nullptr);

struct McItem {
  std::vector<std::string> contexts;       // one per choice
  std::vector<std::string> continuations;  // one per choice
  std::vector<int64_t> norm_bytes;         // byte length of each choice text (acc_norm)
  int gold = 0;
  std::string description;  // prepended before the few-shot examples (MMLU's subject line); "" = none
  std::string group;        // few-shot examples come from items of the same group (MMLU: subject)
};

struct McTask {
  std::string name;    // file name without folder and extension
  std::string format;  // generic, piqa, arc, hellaswag, winogrande, boolq
  bool has_norm = true;
  std::vector<McItem> items;
  std::vector<McItem> fewshot_pool;  // set_mc_fewshot
  int num_fewshot = 0;
};

// Parses one line's object; sets *format to the detected format. Throws ptq::Error naming the
// missing or bad field.
McItem parse_mc_item(const nlohmann::json& j, std::string* format);
// File name without folder and extension ("resources/tasks/piqa.jsonl" -> "piqa").
std::string task_name_of(const std::string& path);
// The format a line's object is read as (piqa, arc, hellaswag, winogrande, boolq, mmlu, generic).
std::string mc_format_of(const nlohmann::json& j);
// Reads a JSONL task file (its name: task_name_of); errors name the file, the line and the field.
McTask load_mc_task(const std::string& path);
// Reads `path` (same format) as the few-shot pool and uses k examples per item; throws when the file
// has another format or fewer than k items (of an item's subject).
void set_mc_fewshot(McTask& task, const std::string& path, int k);
// The full context of choice `choice`: description, few-shot examples, the item's own context.
std::string mc_context(const McTask& task, const McItem& item, size_t choice);

struct TaskScore {
  double acc = 0, acc_norm = 0;
  int64_t n = 0;
  bool has_norm = true;
  nlohmann::json to_json() const;  // {"acc", "acc_norm" (when has_norm), "n"}
};
// lls[i][c]: log-likelihood of choice c of item i.
TaskScore score_choices(const std::vector<McItem>& items, const std::vector<std::vector<double>>& lls, bool has_norm);

// Scores the first `limit` items (0 = all).
TaskScore run_mc_task(Model& model, const Tokenizer& tok, const McTask& task, int64_t limit = 0, Feedback* fb = nullptr);

}  // namespace ptq
