#pragma once
// Pre-tokenizers of the tokenizer (internal): the Split pre-tokenizer (a literal String pattern,
// or the GPT-2 / Llama-3 / Qwen-2 regexes, matched by hand-written code recognised by their
// exact pattern text) and ByteLevel (GPT-2's byte <-> unicode alphabet, both directions).
#include <cstdint>
#include <string>
#include <vector>

namespace ptq::detail {

enum class RegexKind { kGpt2, kLlama3 };

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct PreTokenizer {
  enum Kind { kSplit, kByteLevel } kind = kSplit;
  bool is_regex = false;
  RegexKind regex = RegexKind::kGpt2;
  int max_digits = 3;
  std::string literal;
  Behavior behavior = Behavior::kIsolated;
  bool invert = false, add_prefix_space = false, use_regex = true;
};

// Recognises a Split regex by its exact text: sets *kind and *max_digits (the \p{N}{1,n} bound)
// and returns true for the GPT-2, Llama-3 and Qwen-2 patterns; false for any other pattern.
bool recognize_split_regex(const std::string& pattern, RegexKind* kind, int* max_digits);

// Applies one pre-tokenizer step to every piece (PreTokenizer::pre_tokenize of HF tokenizers).
void pre_tokenize(const PreTokenizer& step, std::vector<std::string>& pieces);

// ByteLevel decoder: maps the alphabet characters of the tokens back to bytes (a token with a
// character outside the alphabet is kept as is) and returns them as lossy UTF-8.
std::string byte_level_decode(const std::vector<std::string>& tokens);

}  // namespace ptq::detail
