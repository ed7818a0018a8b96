#pragma once
// metrics.tasks of a result record, {name: {"acc", "acc_norm"?, "ppl"?, "n"}}: multiple-choice task
// files (eval/tasks/mc_tasks.h), LAMBADA passages (eval/tasks/lambada.h, named "lambada") and the
// last-word task built from a text (eval/tasks/lastword.h, named "lastword:<file name>").
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "core/text/tokenizer.h"
#include "eval/tasks/lambada.h"
#include "eval/tasks/lastword.h"

namespace ptq {

class Model;

struct TaskOptions {
  // JSONL task files, named by file name ("piqa"); a file of LAMBADA passages ({"text"} lines,
  // is_lambada_file) among them is the LAMBADA task.
  std::vector<std::string> task_files;
  std::string lambada_file;             // LAMBADA passages (JSONL or one per line); "" = none
  std::string lastword_text;            // "" = no last-word task; else named "lastword:<file name>"
  LastwordOptions lastword;
  int64_t limit = 0;                    // items per multiple-choice task (0 = all)
};

// Reads and checks every file before scoring any, so a bad file fails fast. Throws ptq::Error.
nlohmann::json evaluate_tasks(Model& model, const Tokenizer& tok, const TaskOptions& o, Feedback* fb = nullptr);

// Reads and checks the files (as evaluate_tasks does first) without scoring.
void check_task_files(const TaskOptions& o);

}  // namespace ptq
