// The LAMBADA passage files (eval/tasks/lambada.h): JSONL {"text"} lines or one passage per line,
// each split at its last space. Torch-free (the fuzz build links it, tests/fuzz/fuzz_task_files.cpp).
#include <cctype>

#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "eval/tasks/lambada.h"

namespace ptq {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string rstrip(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// The passage of one line: the "text" of a JSON object, else the line itself.
std::string passage_of(const std::string& line, bool jsonl, const std::string& where) {
  if (!jsonl) return line;
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
    throw Error(where + ": expected a JSON object with a \"text\" string");
  return rstrip(j["text"].get<std::string>());
}

}  // namespace

bool is_lambada_file(const std::string& path) {
  for (const auto& line : lines_of(read_text_file(path))) {
    if (rstrip(line).empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) return false;
    for (const char* k : {"choices", "context", "query", "goal", "question", "ctx", "ctx_a", "sentence", "passage"})
      if (j.contains(k)) return false;
    return true;
  }
  return false;
}

std::vector<LastwordItem> load_lambada(const std::string& path) {
  const std::vector<std::string> lines = lines_of(read_text_file(path));
  bool jsonl = false;
  for (const auto& l : lines)
    if (!rstrip(l).empty()) {
      jsonl = nlohmann::json::parse(l, nullptr, false).is_object();
      break;
    }
  std::vector<LastwordItem> items;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line = rstrip(lines[i]);
    if (line.empty()) continue;
    const std::string where = "LAMBADA file '" + path + "' line " + std::to_string(i + 1);
    const std::string text = passage_of(line, jsonl, where);
    const size_t space = text.rfind(' ');
    if (space == std::string::npos || space == 0 || space + 1 == text.size())
      throw Error(where + ": the passage has no last word after a space");
    items.push_back({text.substr(0, space), text.substr(space + 1)});
  }
  if (items.empty()) throw Error("LAMBADA file '" + path + "' has no passages");
  return items;
}

}  // namespace ptq
