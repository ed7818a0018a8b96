#pragma once
// metrics.tasks of a result record: multiple-choice task files (eval/mc_tasks.h) and the
// last-word task built from a text (eval/lambada.h), {name: {"acc", "acc_norm"?, "n"}}.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "core/text/tokenizer.h"
#include "eval/tasks/lambada.h"

namespace ptq {

class Model;

struct TaskOptions {
  std::vector<std::string> task_files;  // JSONL, named by file name ("piqa")
  std::string lambada_text;             // "" = no last-word task; else named "lambada:<file name>"
  LambadaOptions lambada;
  int64_t limit = 0;                    // items per multiple-choice task (0 = all)
};

// Reads and checks every file before scoring any, so a bad file fails fast. Throws ptq::Error.
nlohmann::json evaluate_tasks(Model& model, const Tokenizer& tok, const TaskOptions& o, Feedback* fb = nullptr);

}  // namespace ptq
