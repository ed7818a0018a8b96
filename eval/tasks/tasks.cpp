#include "eval/tasks/tasks.h"

#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "eval/generation/generate.h"
#include "eval/tasks/mc_tasks.h"

namespace ptq {

namespace {

struct LoadedTasks {
  std::vector<McTask> mc;
  std::vector<GenerationTask> gen;
  std::vector<LastwordItem> lambada, lastword;
};

void check_unique_name(const LoadedTasks& t, const std::string& name, const std::string& file) {
  int seen = 0;
  for (const auto& m : t.mc) seen += m.name == name;
  for (const auto& g : t.gen) seen += g.name == name;
  if (seen > 1) throw Error("two task files are named '" + name + "'");
  if (name == kLambadaTaskName)
    throw Error("task file '" + file + "' is named 'lambada', the LAMBADA task's name, but does not hold LAMBADA passages");
}

// Few-shot examples for one task: its file from o.fewshot_files when num_fewshot > 0.
template <class Task, class SetFewshot>
void apply_fewshot(Task& task, const TaskOptions& o, SetFewshot set) {
  if (o.num_fewshot == 0) return;
  auto it = o.fewshot_files.find(task.name);
  if (it == o.fewshot_files.end())
    throw Error("num_fewshot " + std::to_string(o.num_fewshot) + " needs a few-shot file for task '" + task.name + "'");
  set(task, it->second, o.num_fewshot);
}

void check_fewshot_names(const LoadedTasks& t, const TaskOptions& o) {
  if (o.num_fewshot < 0) throw Error("num_fewshot must be 0 or more, got " + std::to_string(o.num_fewshot));
  for (const auto& [name, file] : o.fewshot_files) {
    bool known = false;
    for (const auto& m : t.mc) known |= m.name == name;
    for (const auto& g : t.gen) known |= g.name == name;
    if (!known) throw Error("few-shot file '" + file + "' is for task '" + name + "', which is not among the task files");
    if (o.num_fewshot == 0) throw Error("few-shot file '" + file + "' for task '" + name + "' needs num_fewshot > 0");
  }
}

void load_task_file(LoadedTasks& t, const TaskOptions& o, const std::string& f, std::string& lambada_from) {
  if (is_lambada_file(f)) {
    if (!lambada_from.empty())
      throw Error("two LAMBADA files ('" + lambada_from + "' and '" + f + "'): the task is recorded as \"lambada\"; give one");
    lambada_from = f;
    t.lambada = load_lambada(f);
  } else if (is_generation_file(f)) {
    t.gen.push_back(load_generation_task(f));
    check_unique_name(t, t.gen.back().name, f);
    apply_fewshot(t.gen.back(), o, set_generation_fewshot);
  } else {
    t.mc.push_back(load_mc_task(f));
    check_unique_name(t, t.mc.back().name, f);
    apply_fewshot(t.mc.back(), o, set_mc_fewshot);
  }
}

LoadedTasks load_tasks(const TaskOptions& o) {
  LoadedTasks t;
  std::string lambada_from = o.lambada_file;
  if (!o.lambada_file.empty()) t.lambada = load_lambada(o.lambada_file);
  for (const auto& f : o.task_files) load_task_file(t, o, f, lambada_from);
  check_fewshot_names(t, o);
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

nlohmann::json evaluate_tasks(Model& model, const Tokenizer& tok, const TaskOptions& o, const GenerateFn& generate,
                              Feedback* fb) {
  const LoadedTasks t = load_tasks(o);
  if (!t.gen.empty() && !generate)
    throw Error("task '" + t.gen.front().name + "' is a generation task, and this evaluation has no decoder");
  nlohmann::json out = nlohmann::json::object();
  for (const auto& m : t.mc) {
    out[m.name] = run_mc_task(model, tok, m, o.limit, fb).to_json();
    if (m.num_fewshot > 0) out[m.name]["num_fewshot"] = m.num_fewshot;
  }
  for (const auto& g : t.gen) out[g.name] = run_generation_task(g, generate, o.limit);
  if (!t.lambada.empty()) out[kLambadaTaskName] = run_lambada(model, tok, t.lambada, fb);
  if (!t.lastword.empty()) out[lastword_task_name(o.lastword_text)] = run_lastword(model, tok, t.lastword, fb);
  return out;
}

nlohmann::json evaluate_tasks(Model& model, const Tokenizer& tok, const TaskOptions& o, Feedback* fb) {
  return evaluate_tasks(model, tok, o, make_greedy_generate_fn(model, tok), fb);  // the engine's greedy decoder
}

}  // namespace ptq
