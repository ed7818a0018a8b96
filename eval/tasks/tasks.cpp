#include "eval/tasks/tasks.h"

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "eval/tasks/mc_tasks.h"

namespace ptq {

nlohmann::json evaluate_tasks(Model& model, const Tokenizer& tok, const TaskOptions& o, Feedback* fb) {
  std::vector<McTask> tasks;
  for (const auto& f : o.task_files) {
    tasks.push_back(load_mc_task(f));
    for (size_t i = 0; i + 1 < tasks.size(); ++i)
      if (tasks[i].name == tasks.back().name) throw Error("two task files are named '" + tasks.back().name + "'");
  }
  std::vector<LambadaItem> lambada;
  if (!o.lambada_text.empty()) {
    try {
      lambada = make_lambada_items(read_text_file(o.lambada_text), o.lambada);
    } catch (const Error& e) {
      throw Error("last-word task from '" + o.lambada_text + "': " + e.what());
    }
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& t : tasks) out[t.name] = run_mc_task(model, tok, t, o.limit, fb).to_json();
  if (!lambada.empty()) out[lambada_task_name(o.lambada_text)] = run_lambada(model, tok, lambada, fb);
  return out;
}

}  // namespace ptq
