#include "eval/tasks/tasks.h"

#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "eval/tasks/mc_tasks.h"

namespace ptq {

namespace {

struct LoadedTasks {
  std::vector<McTask> mc;
  std::vector<LastwordItem> lambada, lastword;
};

LoadedTasks load_tasks(const TaskOptions& o) {
  LoadedTasks t;
  std::string lambada_from = o.lambada_file;
  if (!o.lambada_file.empty()) t.lambada = load_lambada(o.lambada_file);
  for (const auto& f : o.task_files) {
    if (is_lambada_file(f)) {
      if (!lambada_from.empty())
        throw Error("two LAMBADA files ('" + lambada_from + "' and '" + f + "'): the task is recorded as \"lambada\"; give one");
      lambada_from = f;
      t.lambada = load_lambada(f);
      continue;
    }
    t.mc.push_back(load_mc_task(f));
    for (size_t i = 0; i + 1 < t.mc.size(); ++i)
      if (t.mc[i].name == t.mc.back().name) throw Error("two task files are named '" + t.mc.back().name + "'");
    if (t.mc.back().name == kLambadaTaskName)
      throw Error("task file '" + f + "' is named 'lambada', the LAMBADA task's name, but holds multiple-choice items");
  }
  if (!o.lastword_text.empty()) {
    try {
      t.lastword = make_lastword_items(read_text_file(o.lastword_text), o.lastword);
    } catch (const Error& e) {
      throw Error("last-word task from '" + o.lastword_text + "': " + e.what());
    }
  }
  return t;
}

}  // namespace

void check_task_files(const TaskOptions& o) { load_tasks(o); }

nlohmann::json evaluate_tasks(Model& model, const Tokenizer& tok, const TaskOptions& o, Feedback* fb) {
  const LoadedTasks t = load_tasks(o);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& m : t.mc) out[m.name] = run_mc_task(model, tok, m, o.limit, fb).to_json();
  if (!t.lambada.empty()) out[kLambadaTaskName] = run_lambada(model, tok, t.lambada, fb);
  if (!t.lastword.empty()) out[lastword_task_name(o.lastword_text)] = run_lastword(model, tok, t.lastword, fb);
  return out;
}

}  // namespace ptq
