// The input is a task file (JSONL, or LAMBADA's one passage per line), read as the engine reads it
// before scoring: as a multiple-choice task (every lm-eval format, its own few-shot pool), as a
// generation task (gsm8k / completion, scored against its own targets), and as LAMBADA passages.
// Each is accepted or refused with a ptq::Error; an accepted file keeps the invariants the scoring
// relies on (a gold index inside the choices, one continuation per context, last words without
// spaces).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/runtime/errors.h"
#include "eval/tasks/generation_task.h"
#include "eval/tasks/lambada.h"
#include "eval/tasks/mc_tasks.h"

namespace {

// The readers take a path: each input is written to one file per fuzzing process.
const std::string& task_path() {
  static const std::string p = "/tmp/ptq-fuzz-task-" + std::to_string(::getpid()) + ".jsonl";
  return p;
}

void multiple_choice(const std::string& path) {
  try {
    ptq::McTask t = ptq::load_mc_task(path);
    if (t.items.empty() || t.name.empty()) __builtin_trap();
    for (const auto& it : t.items)
      if (it.contexts.empty() || it.contexts.size() != it.continuations.size() ||
          it.contexts.size() != it.norm_bytes.size() || it.gold < 0 || it.gold >= int(it.contexts.size()))
        __builtin_trap();
    ptq::set_mc_fewshot(t, path, 1);  // the file as its own pool: never the item itself
    for (size_t i = 0; i < t.items.size() && i < 8; ++i) {  // examples, then the item's own context
      const auto& it = t.items[i];
      const std::string c = ptq::mc_context(t, it, size_t(it.gold));
      const std::string& own = it.contexts[size_t(it.gold)];
      if (c.size() < own.size() || c.compare(c.size() - own.size(), own.size(), own) != 0) __builtin_trap();
    }
  } catch (const ptq::Error&) {
  }
}

void generation(const std::string& path) {
  try {
    if (!ptq::is_generation_file(path)) return;
    ptq::GenerationTask t = ptq::load_generation_task(path);
    if (t.items.empty() || t.filters.empty()) __builtin_trap();
    std::vector<std::string> answers;
    for (size_t i = 0; i < t.items.size() && i < 8; ++i) {
      if (ptq::generation_prompt(t, t.items[i]).size() < t.items[i].prompt.size()) __builtin_trap();
      answers.push_back(t.items[i].target);
    }
    const nlohmann::json s = ptq::score_generations(t, answers);
    if (s["n"].get<int64_t>() != int64_t(answers.size())) __builtin_trap();
  } catch (const ptq::Error&) {
  }
}

void lambada(const std::string& path) {
  try {
    (void)ptq::is_lambada_file(path);
    for (const auto& it : ptq::load_lambada(path))
      if (it.context.empty() || it.target.empty() || it.target.find(' ') != std::string::npos) __builtin_trap();
  } catch (const ptq::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = task_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  multiple_choice(path);
  generation(path);
  lambada(path);
  return 0;
}
