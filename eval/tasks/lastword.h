#pragma once
// A last-word task in LAMBADA's style (not LAMBADA: see eval/tasks/lambada.h for the real data) built
// deterministically from any text: passages that end a
// sentence on a word, the model must produce that word. As lm-eval's lambada: the context is
// scored with continuation " " + word, and an item counts as right when greedy decoding yields
// every token of the word (each is the argmax at its position).
//
// Passages are verbatim pieces of the text (line breaks kept, as the model saw its training text):
// a target is a word of 3 or more ASCII letters (not "Mrs") that ends a sentence (followed by
// . ! or ?, then optional closing quotes), comes after one space, and has at least `context_words`
// words before it; its context starts at the first sentence start at or before context_words words
// back (at most 2·context_words words back). From all targets, `n` are drawn with a seeded shuffle
// (mt19937_64, portable) and kept in text order.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "core/text/tokenizer.h"

namespace ptq {

class Model;

struct LastwordOptions {
  int64_t n = 200;             // passages (fewer when the text has fewer targets)
  int64_t context_words = 50;  // words of context before the target, at least
  uint64_t seed = 0;
};

struct LastwordItem {
  std::string context;  // ends with the word before the target (no trailing space)
  std::string target;   // the last word, letters only
};

// Throws ptq::Error when the text yields no passage.
std::vector<LastwordItem> make_lastword_items(const std::string& text, const LastwordOptions& o = {});

// {"acc", "n"} of metrics.tasks.
nlohmann::json run_lastword(Model& model, const Tokenizer& tok, const std::vector<LastwordItem>& items,
                           Feedback* fb = nullptr);

// "lastword:<file name without folder and extension>", the metrics.tasks key.
std::string lastword_task_name(const std::string& text_path);

}  // namespace ptq
