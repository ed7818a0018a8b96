// The multiple-choice task files (eval/tasks/mc_tasks.h): each line's object read in its format
// (lm-eval's preprocessing), the few-shot pool and the full context of a choice. Torch-free, so the
// fuzz build (tests/fuzz/fuzz_task_files.cpp) links it without LibTorch.
#include <algorithm>
#include <cctype>

#include "core/runtime/errors.h"
#include "eval/tasks/mc_tasks.h"
#include "eval/tasks/task_fields.h"

namespace ptq {

namespace {

using namespace task_fields;

// lm-eval's HellaSwag preprocess.
std::string hellaswag_clean(std::string t) {
  const auto b = t.find_first_not_of(" \t\n\r"), e = t.find_last_not_of(" \t\n\r");
  t = b == std::string::npos ? "" : t.substr(b, e - b + 1);
  t = replace_all(t, " [title]", ". ");
  // re.sub("\\[.*?\\]", "", t) by hand: each "[" up to the first "]" with no newline between
  // (Python's "." stops at "\n"). std::regex recursed once per character and overflowed the stack
  // on a long bracketed span (a 60 000-character one through tests/fuzz/fuzz_task_files).
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '[') {
      const size_t close = t.find_first_of("]\n", i + 1);
      if (close != std::string::npos && t[close] == ']') {
        i = close;
        continue;
      }
    }
    out += t[i];
  }
  return replace_all(out, "  ", " ");
}

std::string capitalize(std::string s) {  // Python str.capitalize for ASCII
  for (size_t i = 0; i < s.size(); ++i) s[i] = char(i ? std::tolower(static_cast<unsigned char>(s[i])) : std::toupper(static_cast<unsigned char>(s[i])));
  return s;
}

// Shared context, continuation " " + choice (lm-eval's target delimiter).
McItem shared_context(const std::string& context, const std::vector<std::string>& choices, int gold) {
  McItem it;
  for (const auto& c : choices) {
    it.contexts.push_back(context);
    it.continuations.push_back(" " + c);
    it.norm_bytes.push_back(int64_t(c.size()));
  }
  it.gold = gold;
  return it;
}

McItem parse_piqa(const nlohmann::json& j) {
  return shared_context("Question: " + text_field(j, "goal") + "\nAnswer:", {text_field(j, "sol1"), text_field(j, "sol2")},
                        index_field(field(j, "label"), "label"));
}

McItem parse_arc(const nlohmann::json& j) {
  const auto& ch = field(j, "choices");
  if (!ch.is_object()) throw Error("field \"choices\" must be an object with \"text\" and \"label\" lists");
  const auto texts = text_list(field(ch, "text"), "choices.text"), labels = text_list(field(ch, "label"), "choices.label");
  if (texts.size() != labels.size()) throw Error("choices.text and choices.label differ in length");
  const std::string key = field(j, "answerKey").is_string() ? j["answerKey"].get<std::string>() : j["answerKey"].dump();
  auto pos = std::find(labels.begin(), labels.end(), key);
  if (pos == labels.end()) throw Error("answerKey '" + key + "' is not among choices.label");
  return shared_context("Question: " + text_field(j, "question") + "\nAnswer:", texts, int(pos - labels.begin()));
}

// lm-eval's hellaswag utils.process_docs: query = preprocess(activity_label + ": " + ctx_a + " " +
// ctx_b.capitalize()); an export with the joined "ctx" instead of ctx_a / ctx_b is read too.
McItem parse_hellaswag(const nlohmann::json& j) {
  std::string ctx = j.contains("ctx_a") ? text_field(j, "ctx_a") + " " + capitalize(text_field(j, "ctx_b"))
                                        : text_field(j, "ctx");
  ctx = text_field(j, "activity_label") + ": " + ctx;
  std::vector<std::string> endings;
  for (const auto& e : text_list(field(j, "endings"), "endings")) endings.push_back(hellaswag_clean(e));
  return shared_context(hellaswag_clean(ctx), endings, index_field(field(j, "label"), "label"));
}

// lm-eval's winogrande preprocess_winogrande.py: one context per option (sentence up to the first
// "_" + option), the shared continuation " " + the rest after "_", stripped.
McItem parse_winogrande(const nlohmann::json& j) {
  McItem it;
  const std::string s = text_field(j, "sentence");
  const size_t us = s.find('_');
  if (us == std::string::npos) throw Error("field \"sentence\" has no '_' blank");
  const std::string rest = strip(s.substr(us + 1));
  for (const char* k : {"option1", "option2"}) {
    it.contexts.push_back(s.substr(0, us) + text_field(j, k));
    it.continuations.push_back(" " + rest);
    it.norm_bytes.push_back(int64_t(rest.size()));
  }
  it.gold = index_field(field(j, "answer"), "answer") - 1;
  return it;
}

McItem parse_boolq(const nlohmann::json& j) {
  int gold;
  if (j.contains("answer") && j["answer"].is_boolean()) gold = j["answer"].get<bool>() ? 1 : 0;
  else gold = index_field(field(j, "label"), "label");
  return shared_context(text_field(j, "passage") + "\nQuestion: " + text_field(j, "question") + "?\nAnswer:",
                        {"no", "yes"}, gold);
}

// lm-eval's mmlu/default/_default_template_yaml and the per-subject description.
McItem parse_mmlu(const nlohmann::json& j) {
  const auto choices = text_list(field(j, "choices"), "choices");
  if (choices.size() != 4) throw Error("field \"choices\" must hold 4 answers (MMLU), got " + std::to_string(choices.size()));
  std::string q = strip(text_field(j, "question"));
  const char* letters[] = {"A", "B", "C", "D"};
  for (size_t i = 0; i < 4; ++i) q += "\n" + std::string(letters[i]) + ". " + choices[i];
  McItem it = shared_context(q + "\nAnswer:", {"A", "B", "C", "D"}, index_field(field(j, "answer"), "answer"));
  it.group = text_field(j, "subject");
  it.description = "The following are multiple choice questions (with answers) about " + replace_all(it.group, "_", " ") + ".\n\n";
  return it;
}

McItem parse_generic(const nlohmann::json& j) {
  const char* ck = first_key(j, {"context", "query"});
  if (!ck) throw Error("unknown task format: expected \"context\" (or \"query\") and \"choices\", or the fields of "
                       "piqa, arc, hellaswag, winogrande, boolq or mmlu");
  const char* gk = first_key(j, {"gold", "label", "answer"});
  if (!gk) throw Error("missing field \"gold\" (or \"label\", \"answer\")");
  return shared_context(text_field(j, ck), text_list(field(j, "choices"), "choices"), index_field(j[gk], gk));
}

}  // namespace

std::string mc_format_of(const nlohmann::json& j) {
  if (!j.is_object()) return "";
  if (j.contains("goal") && j.contains("sol1")) return "piqa";
  if (j.contains("answerKey")) return "arc";
  if (j.contains("endings")) return "hellaswag";
  if (j.contains("option1") && j.contains("sentence")) return "winogrande";
  if (j.contains("passage")) return "boolq";
  if (j.contains("subject") && j.contains("choices") && j["choices"].is_array()) return "mmlu";
  return "generic";
}

McItem parse_mc_item(const nlohmann::json& j, std::string* format) {
  if (!j.is_object()) throw Error("expected a JSON object");
  const std::string fmt = mc_format_of(j);
  McItem it = fmt == "piqa"         ? parse_piqa(j)
              : fmt == "arc"        ? parse_arc(j)
              : fmt == "hellaswag"  ? parse_hellaswag(j)
              : fmt == "winogrande" ? parse_winogrande(j)
              : fmt == "boolq"      ? parse_boolq(j)
              : fmt == "mmlu"       ? parse_mmlu(j)
                                    : parse_generic(j);
  if (it.gold < 0 || it.gold >= int(it.contexts.size()))
    throw Error("gold index " + std::to_string(it.gold) + " is outside the " + std::to_string(it.contexts.size()) + " choices");
  if (format) *format = fmt;
  return it;
}

std::string task_name_of(const std::string& path) {
  const std::string base = path.substr(path.find_last_of('/') + 1);
  return base.substr(0, base.find('.'));
}

// The same document (lm-eval compares the docs: a few-shot file that is the test file itself).
static bool same_item(const McItem& a, const McItem& b) {
  return a.gold == b.gold && a.contexts == b.contexts && a.continuations == b.continuations && a.description == b.description;
}

static std::vector<McItem> read_mc_items(const std::string& path, std::string* format) {
  std::vector<McItem> items;
  for_each_jsonl_object(path, [&](const nlohmann::json& j, int) {
    std::string fmt;
    items.push_back(parse_mc_item(j, &fmt));
    if (format->empty()) *format = fmt;
    if (fmt != *format) throw Error("a " + fmt + " item in a " + *format + " file");
  });
  if (items.empty()) throw Error("task file '" + path + "' has no items");
  return items;
}

McTask load_mc_task(const std::string& path) {
  McTask t;
  t.name = task_name_of(path);
  t.items = read_mc_items(path, &t.format);
  t.has_norm = t.format != "winogrande" && t.format != "boolq" && t.format != "mmlu";
  return t;
}

void set_mc_fewshot(McTask& task, const std::string& path, int k) {
  if (k < 0) throw Error("num_fewshot must be 0 or more, got " + std::to_string(k));
  std::string format;
  std::vector<McItem> pool = read_mc_items(path, &format);
  if (format != task.format)
    throw Error("few-shot file '" + path + "' holds " + format + " items, task " + task.name + " is " + task.format);
  for (const McItem& it : task.items) {
    const auto have = std::count_if(pool.begin(), pool.end(), [&](const McItem& e) { return e.group == it.group && !same_item(e, it); });
    if (have < k)
      throw Error("few-shot file '" + path + "' has " + std::to_string(have) + " items" +
                  (it.group.empty() ? "" : " of subject '" + it.group + "'") + ", " + std::to_string(k) + " asked");
  }
  task.fewshot_pool = std::move(pool);
  task.num_fewshot = k;
}

std::string mc_context(const McTask& task, const McItem& item, size_t choice) {
  // lm-eval's fewshot_context: description, then per example doc_to_text + " " + the gold choice +
  // "\n\n" (for winogrande the gold option's context + " " + the rest), then the item's context.
  std::string p = item.description;
  int used = 0;
  for (const McItem& e : task.fewshot_pool) {
    if (used == task.num_fewshot) break;
    if (e.group != item.group) continue;  // MMLU: the dev examples of the item's subject
    if (same_item(e, item)) continue;     // lm-eval's rm_eval_doc: never the item itself
    p += e.contexts[size_t(e.gold)] + e.continuations[size_t(e.gold)] + "\n\n";
    ++used;
  }
  return p + item.contexts.at(choice);
}

}  // namespace ptq
