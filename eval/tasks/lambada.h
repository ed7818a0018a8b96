#pragma once
// LAMBADA (Paperno et al., 2016) from a file the user supplies, scored as lm-eval's lambada_openai:
// each passage is split at its last space (Python's text.rsplit(" ", 1)): context = what precedes
// it, target = the last whitespace-delimited word; the request is (context, " " + target) and an
// item is right when greedy decoding yields every token of the target. Also reported: the
// perplexity of the targets, exp(−mean over passages of log p(target | context)), lm-eval's
// "perplexity" of the task. Recorded as metrics.tasks["lambada"].
//
// File: JSONL with one {"text": passage} object per line (lambada_openai's format), or plain text
// with one passage per line. Blank lines are skipped; trailing whitespace of a line is dropped.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "core/text/tokenizer.h"
#include "eval/tasks/lastword.h"

namespace ptq {

class Model;

// The passages of a LAMBADA file, split into context and target. Throws ptq::Error naming the file
// and line of a passage without a space, an empty file, or a JSONL line without a "text" string.
std::vector<LastwordItem> load_lambada(const std::string& path);

// True when the file's first non-blank line is a JSON object with a "text" string and none of the
// multiple-choice fields (so a task list may hold it beside lm-eval JSONL files).
bool is_lambada_file(const std::string& path);

// {"acc", "ppl", "n"} of metrics.tasks["lambada"].
nlohmann::json run_lambada(Model& model, const Tokenizer& tok, const std::vector<LastwordItem>& items,
                           Feedback* fb = nullptr);

// The metrics.tasks key of the LAMBADA task.
inline const char* kLambadaTaskName = "lambada";

}  // namespace ptq
