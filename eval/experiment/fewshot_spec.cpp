#include "eval/experiment/fewshot_spec.h"

#include "core/runtime/errors.h"
#include "eval/experiment/json_fields.h"

namespace ptq {

void FewshotSpec::write(nlohmann::json& j) const {
  if (empty()) return;
  j["num_fewshot"] = num;
  j["fewshot"] = files;
}

FewshotSpec FewshotSpec::read(const JsonFields& f) {
  FewshotSpec s;
  s.num = int(f.integer("num_fewshot", 0, 0, 1000));
  if (!f.has("fewshot")) return s;
  const auto& v = f.raw("fewshot");
  if (!v.is_object()) f.fail("fewshot", "must be an object {task name: file of examples}, got " + v.dump());
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_string() || it.value().get<std::string>().empty())
      f.fail("fewshot", "'" + it.key() + "' must name a file, got " + it.value().dump());
    s.files[it.key()] = it.value().get<std::string>();
  }
  return s;
}

void FewshotSpec::validate(const std::string& where, bool have_tasks) const {
  if (empty()) return;
  if (num == 0) throw Error(where + ": 'fewshot' files need 'num_fewshot' > 0");
  if (files.empty()) throw Error(where + ": 'num_fewshot' " + std::to_string(num) + " needs 'fewshot' files {task name: file}");
  if (!have_tasks) throw Error(where + ": 'num_fewshot' is set but 'tasks' names no task file");
}

}  // namespace ptq
