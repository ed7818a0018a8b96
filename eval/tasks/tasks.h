#pragma once
// metrics.tasks of a result record, {name: {"acc", "acc_norm"?, "ppl"?, "exact_match"?, "n", "num_fewshot"?}}:
// multiple-choice task files (eval/tasks/mc_tasks.h), generation task files (GSM8K and the
// completion format, eval/tasks/generation_task.h), LAMBADA passages (eval/tasks/lambada.h, named
// "lambada") and the last-word task built from a text (eval/tasks/lastword.h, "lastword:<file name>").
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "core/text/tokenizer.h"
#include "eval/tasks/generation_task.h"
#include "eval/tasks/lambada.h"
#include "eval/tasks/lastword.h"

namespace ptq {

class Model;

struct TaskOptions {
  // JSONL task files, named by file name ("piqa"); a file of LAMBADA passages ({"text"} lines,
  // is_lambada_file) among them is the LAMBADA task, a file of generation items
  // (is_generation_file) a generation task, any other a multiple-choice task.
  std::vector<std::string> task_files;
  // Few-shot examples: task name -> a file in the task's format (its dev / train split), of which
  // the first num_fewshot are prepended (MMLU: of the item's subject). num_fewshot > 0 needs a file
  // for every multiple-choice and generation task; a file needs num_fewshot > 0.
  std::map<std::string, std::string> fewshot_files;
  int num_fewshot = 0;
  std::string lambada_file;             // LAMBADA passages (JSONL or one per line); "" = none
  std::string lastword_text;            // "" = no last-word task; else named "lastword:<file name>"
  LastwordOptions lastword;
  int64_t limit = 0;                    // items per multiple-choice / generation task (0 = all)
};

// Reads and checks every file before scoring any, so a bad file fails fast; generation tasks
// decode with `generate` (the decoder's make_greedy_generate_fn(model, tok)). Throws ptq::Error,
// before any scoring, when a generation task is given and `generate` is empty.
nlohmann::json evaluate_tasks(Model& model, const Tokenizer& tok, const TaskOptions& o, const GenerateFn& generate,
                              Feedback* fb = nullptr);
// The same without a decoder: multiple-choice, LAMBADA and last-word tasks only.
nlohmann::json evaluate_tasks(Model& model, const Tokenizer& tok, const TaskOptions& o, Feedback* fb = nullptr);

// Reads and checks the files (as evaluate_tasks does first) without scoring.
void check_task_files(const TaskOptions& o);

}  // namespace ptq
