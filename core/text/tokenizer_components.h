#pragma once
// Components of the tokenizer (internal): normalizers, decoders and the parsing of the
// normalizer / pre_tokenizer / decoder sections of tokenizer.json. A `Sequence` of components is
// flattened with an explicit stack, so no nesting depth can overflow the call stack.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/text/pretokenizer.h"

namespace ptq::detail {

struct Normalizer {
  enum Kind { kPrepend, kReplace, kStrip } kind = kPrepend;
  std::string a, b;
  bool left = false, right = false;
};

struct Decoder {
  enum Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip } kind = kByteLevel;
  std::string a, b;
  uint32_t content = 0;
  size_t start = 0, stop = 0;
};

// Throws ptq::Error "tokenizer '<path>': <what>".
[[noreturn]] void tokenizer_error(const std::string& path, const std::string& what);

// Each appends the leaves of `node` (a component, a Sequence of them, or null) in order; an
// unsupported component raises tokenizer_error naming it. `path` names the file.
void parse_normalizers(const nlohmann::json& node, const std::string& path, std::vector<Normalizer>* out);
void parse_pre_tokenizers(const nlohmann::json& node, const std::string& path, std::vector<PreTokenizer>* out);
void parse_decoders(const nlohmann::json& node, const std::string& path, std::vector<Decoder>* out);

std::string apply_normalizers(const std::vector<Normalizer>& normalizers, std::string_view piece);
void run_decoder(const Decoder& d, std::vector<std::string>& tokens);

// Text helpers shared with the added-token splitting.
void replace_all(std::string& s, const std::string& from, const std::string& to);
size_t whitespace_prefix(std::string_view s);        // bytes of leading White_Space
size_t whitespace_suffix_start(std::string_view s);  // offset where trailing White_Space begins
bool get_bool(const nlohmann::json& j, const char* key, bool fallback);

}  // namespace ptq::detail
