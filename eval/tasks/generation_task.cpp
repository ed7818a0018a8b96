#include "eval/tasks/generation_task.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "core/runtime/errors.h"
#include "eval/tasks/mc_tasks.h"
#include "eval/tasks/task_fields.h"

namespace ptq {

using namespace task_fields;

std::string apply_answer_filter(const AnswerFilter& f, const std::string& response) {
  if (f.pattern.empty()) return strip(response);
  const std::regex re(f.pattern, std::regex::ECMAScript);
  // Python's re.findall: the whole match without groups, the group with one, all groups with more.
  std::vector<std::vector<std::string>> found;
  for (auto it = std::sregex_iterator(response.begin(), response.end(), re); it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    std::vector<std::string> groups;
    if (m.size() == 1) groups.push_back(m.str(0));
    for (size_t g = 1; g < m.size(); ++g) groups.push_back(m.str(g));
    found.push_back(groups);
  }
  const int n = int(found.size());
  const int at = f.group_select < 0 ? n + f.group_select : f.group_select;
  if (n == 0 || at < 0 || at >= n) return "[invalid]";  // Python would raise IndexError past the end
  const auto& groups = found[size_t(at)];
  if (groups.size() == 1) return strip(groups[0]);
  for (const auto& g : groups)
    if (!g.empty()) return strip(g);
  return "[invalid]";
}

std::string normalize_for_match(const std::string& s, const ExactMatchOptions& o) {
  std::string out = s;
  if (o.gsm8k_ignores) {  // re.sub of ",", "\$", "(?s).*#### ", "\.$", in this order
    out = replace_all(replace_all(out, ",", ""), "$", "");
    const size_t last = out.rfind("#### ");
    if (last != std::string::npos) out = out.substr(last + 5);
    // Python's "$" matches at the end and before a final "\n".
    if (!out.empty() && out.back() == '.') out.pop_back();
    else if (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '.') out.erase(out.size() - 2, 1);
  }
  if (o.ignore_case)
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

bool exact_match(const std::string& prediction, const std::string& reference, const ExactMatchOptions& o) {
  return normalize_for_match(prediction, o) == normalize_for_match(reference, o);
}

namespace {

GenerationTask gsm8k_settings() {
  GenerationTask t;
  t.format = "gsm8k";
  t.until = {"Question:", "</s>", "<|im_end|>"};
  t.max_new_tokens = 256;  // lm-eval's max_gen_toks default
  // The yaml's patterns, with the escapes ECMAScript does not need ("\-", "\.", "\,") written plainly.
  t.filters = {{"strict-match", "#### (-?[0-9.,]+)", 0}, {"flexible-extract", "(-?[$0-9.,]{2,})|(-?[0-9]+)", -1}};
  t.match.ignore_case = true;
  t.match.gsm8k_ignores = true;
  return t;
}

GenerationTask completion_settings() {
  GenerationTask t;
  t.format = "completion";
  t.until = {"\n"};
  t.max_new_tokens = 16;
  t.filters = {{"first-word", "[A-Za-z0-9]+", 0}, {"strict-match", "", 0}};
  return t;
}

bool same_item(const GenItem& a, const GenItem& b) { return a.prompt == b.prompt && a.target == b.target; }

GenItem parse_generation_item(const nlohmann::json& j, const std::string& format) {
  if (format == "gsm8k") return {"Question: " + text_field(j, "question") + "\nAnswer:", text_field(j, "answer")};
  GenItem it{text_field(j, "prompt"), text_field(j, "target")};
  if (strip(it.target).empty()) throw Error("field \"target\" is empty");
  return it;
}

std::vector<GenItem> read_items(const std::string& path, std::string* format) {
  std::vector<GenItem> items;
  for_each_jsonl_object(path, [&](const nlohmann::json& j, int) {
    if (!j.is_object()) throw Error("expected a JSON object");
    const std::string f = generation_format_of(j);
    if (f.empty()) {
      if (format->empty())
        throw Error("unknown generation format: expected \"question\" and \"answer\" (gsm8k) or \"prompt\" and \"target\"");
      (void)parse_generation_item(j, *format);  // names the missing field
    }
    if (format->empty()) *format = f;
    if (!f.empty() && f != *format) throw Error("a " + f + " item in a " + *format + " file");
    items.push_back(parse_generation_item(j, *format));
  });
  if (items.empty()) throw Error("task file '" + path + "' has no items");
  return items;
}

}  // namespace

std::string generation_format_of(const nlohmann::json& j) {
  if (!j.is_object()) return "";
  if (j.contains("question") && j.contains("answer") && j["answer"].is_string() && !j.contains("choices")) return "gsm8k";
  if (j.contains("prompt") && j.contains("target")) return "completion";
  return "";
}

bool is_generation_file(const std::string& path) { return !generation_format_of(first_jsonl_object(path)).empty(); }

GenerationTask load_generation_task(const std::string& path) {
  std::string format;
  std::vector<GenItem> items = read_items(path, &format);
  GenerationTask t = format == "gsm8k" ? gsm8k_settings() : completion_settings();
  t.name = task_name_of(path);
  t.items = std::move(items);
  return t;
}

void set_generation_fewshot(GenerationTask& task, const std::string& path, int k) {
  if (k < 0) throw Error("num_fewshot must be 0 or more, got " + std::to_string(k));
  std::string format;
  std::vector<GenItem> pool = read_items(path, &format);
  if (format != task.format)
    throw Error("few-shot file '" + path + "' holds " + format + " items, task " + task.name + " is " + task.format);
  for (const GenItem& it : task.items) {
    const auto have = std::count_if(pool.begin(), pool.end(), [&](const GenItem& e) { return !same_item(e, it); });
    if (have < k) throw Error("few-shot file '" + path + "' has " + std::to_string(have) + " items, " + std::to_string(k) + " asked");
  }
  task.fewshot_pool = std::move(pool);
  task.num_fewshot = k;
}

std::string generation_prompt(const GenerationTask& task, const GenItem& item) {
  // lm-eval's fewshot_context: each example is doc_to_text + target_delimiter " " + doc_to_target +
  // fewshot_delimiter "\n\n", then the item's doc_to_text (api/task.py build_qa_turn).
  std::string p;
  const size_t k = std::min(task.fewshot_pool.size(), size_t(std::max(0, task.num_fewshot)));
  size_t used = 0;
  for (const GenItem& e : task.fewshot_pool) {
    if (used == k) break;
    if (same_item(e, item)) continue;  // lm-eval's rm_eval_doc: never the item itself
    p += e.prompt + " " + e.target + "\n\n";
    ++used;
  }
  return p + item.prompt;
}

nlohmann::json score_generations(const GenerationTask& task, const std::vector<std::string>& continuations) {
  if (continuations.size() > task.items.size())
    throw Error("task " + task.name + ": " + std::to_string(continuations.size()) + " continuations for " +
                std::to_string(task.items.size()) + " items");
  const size_t n = continuations.size();
  nlohmann::json em = nlohmann::json::object();
  for (const auto& f : task.filters) {
    int64_t right = 0;
    for (size_t i = 0; i < n; ++i)
      right += exact_match(apply_answer_filter(f, continuations[i]), task.items[i].target, task.match);
    em[f.name] = n ? double(right) / double(n) : 0.0;
  }
  const double acc = task.filters.empty() ? 0.0 : em[task.filters.front().name].get<double>();
  return {{"acc", acc}, {"exact_match", em}, {"n", int64_t(n)}, {"num_fewshot", task.num_fewshot}};
}

nlohmann::json run_generation_task(const GenerationTask& task, const GenerateFn& generate, int64_t limit) {
  if (!generate) throw Error("task " + task.name + " is a generation task and needs a decoder (GenerateFn)");
  const size_t n = limit > 0 ? std::min(task.items.size(), size_t(limit)) : task.items.size();
  std::vector<std::string> prompts;
  for (size_t i = 0; i < n; ++i) prompts.push_back(generation_prompt(task, task.items[i]));
  const std::vector<std::string> out = generate(prompts, task.max_new_tokens, task.until);
  if (out.size() != n)
    throw Error("task " + task.name + ": the decoder returned " + std::to_string(out.size()) + " continuations for " +
                std::to_string(n) + " prompts");
  return score_generations(task, out);
}

}  // namespace ptq
