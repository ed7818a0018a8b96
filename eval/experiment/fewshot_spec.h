#pragma once
// Few-shot settings of the experiment and sweep specs (torch-free, ptq_spec): "num_fewshot": K and
// "fewshot": {task name: file of examples}, the first K of which are prepended to each item of
// that task (eval/tasks/tasks.h TaskOptions). Absent / 0 by default, and then absent from the
// run's identity, so run ids of specs without few-shot stay as they were.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace ptq {

class JsonFields;

struct FewshotSpec {
  int num = 0;
  std::map<std::string, std::string> files;  // task name (file name without extension) -> examples file

  bool empty() const { return num == 0 && files.empty(); }
  // Adds "num_fewshot" and "fewshot" to j unless empty().
  void write(nlohmann::json& j) const;
  // Reads the two keys (absent: empty). Throws through f.fail naming the key.
  static FewshotSpec read(const JsonFields& f);
  // Throws ptq::Error (prefixed with `where`) when files are given without num, num without files,
  // or there are no task files to apply them to.
  void validate(const std::string& where, bool have_tasks) const;
};

}  // namespace ptq
