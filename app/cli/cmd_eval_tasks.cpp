#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <iostream>

#include "app/cli/args.h"
#include "app/cli/cancel_signals.h"
#include "eval/experiment/spec_limits.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "eval/tasks/tasks.h"

namespace ptq::cli {

// ptq eval-tasks --model DIR [--task FILE.jsonl ...] [--lambada LAMBADA.jsonl|.txt]
//   [--num-fewshot K --fewshot NAME=DEV.jsonl ...]
//   [--lastword TEXT --lastword-n 200 --lastword-context 50 --seed 0] [--limit N]
//   [--device D --dtype T --residency R]
// prints {"tasks": {name: {"acc", "acc_norm"?, "ppl"?, "exact_match"?, "n", "num_fewshot"?}}, "model": DIR}.
// --task takes lm-eval JSONL exports (ARC, HellaSwag, PIQA, WinoGrande, BoolQ, MMLU, LAMBADA,
// GSM8K; docs/task-files.md) and this project's formats; --fewshot NAME=FILE gives task NAME its
// few-shot examples (the first K of FILE, K = --num-fewshot). --lambada is the real LAMBADA data
// (one passage per line, target = its last word; "lambada"); --lastword builds a last-word task
// from any text ("lastword:<file name>").
int cmd_eval_tasks(const std::vector<std::string>& argv) {
  Args a(argv,
         {"model", "task", "lambada", "lastword", "lastword-n", "lastword-context", "seed", "limit", "device", "dtype",
          "residency", "num-fewshot", "fewshot", "split-devices"},
         {}, {"task", "fewshot"});
  at::NoGradGuard no_grad;
  const std::string dir = a.required("model");
  TaskOptions o;
  o.task_files = a.all("task");
  o.lambada_file = a.get("lambada", "");
  o.lastword_text = a.get("lastword", "");
  o.lastword.n = a.get_int("lastword-n", o.lastword.n, 1, limits::kMaxWindows);
  o.lastword.context_words = a.get_int("lastword-context", o.lastword.context_words, 1, limits::kMaxSeqlen);
  o.lastword.seed = uint64_t(a.get_int("seed", 0, 0, limits::kMaxSeed));
  o.limit = a.get_int("limit", 0, 0, limits::kMaxWindows);
  o.num_fewshot = int(a.get_int("num-fewshot", 0, 0, 1000));
  for (const std::string& nf : a.all("fewshot")) {
    const size_t eq = nf.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == nf.size())
      throw Error("--fewshot wants NAME=FILE (the task's name, its file name without extension), got '" + nf + "'");
    if (!o.fewshot_files.emplace(nf.substr(0, eq), nf.substr(eq + 1)).second)
      throw Error("--fewshot names task '" + nf.substr(0, eq) + "' twice");
  }
  if (o.task_files.empty() && o.lambada_file.empty() && o.lastword_text.empty())
    throw Error("give at least one --task FILE.jsonl, --lambada FILE or --lastword TEXT");
  if (o.limit < 0) throw Error("--limit must be 0 (all items) or more, got " + std::to_string(o.limit));
  check_task_files(o);  // a bad task or few-shot file fails before the model loads
  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);  // SIGINT / SIGTERM: stop between units of work, exit 130 / 143
  const LoadOptions lo = load_options(a);
  auto model = Model::load(dir, lo, &fb);
  const Tokenizer tok = model_tokenizer(*model, dir);
  json out = {{"tasks", evaluate_tasks(*model, tok, o, &fb)}, {"model", dir}};
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
