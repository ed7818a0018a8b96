#include "core/tokenizer.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/errors.h"
#include "core/unicode.h"

// Behaviour follows Hugging Face tokenizers (Rust) step by step: added tokens are split out of
// the raw text, each remaining piece is normalized, split by the pre-tokenizers, and each
// pre-token goes through the BPE model (merge_word / merge_all of tokenizers' bpe/word.rs).

namespace ptq {
namespace {

using json = nlohmann::json;
namespace uni = ptq::unicode;
constexpr size_t kNpos = std::string_view::npos;

// ---------------------------------------------------------------- byte-level alphabet
// GPT-2's bytes_to_unicode(): printable bytes map to themselves, the others to U+0100 + k.
struct ByteAlphabet {
  std::array<std::string, 256> byte_to_str;
  std::array<int, 324> cp_to_byte;  // -1: not in the alphabet
  ByteAlphabet() {
    cp_to_byte.fill(-1);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      const uint32_t cp = keep ? b : 256 + extra++;
      byte_to_str[b] = uni::encode_utf8(cp);
      cp_to_byte[cp] = static_cast<int>(b);
    }
  }
};
const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

// ---------------------------------------------------------------- merge table
// Open-addressing hash map (pair of symbol ids) -> (rank, merged id).
class PairMap {
 public:
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t rank = 0;
    int32_t id = 0;
  };
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  void insert_or_assign(int32_t a, int32_t b, uint32_t rank, int32_t id) {
    const uint64_t key = make_key(a, b);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == kEmpty || slots_[i].key == key) {
        slots_[i] = Slot{key, rank, id};
        return;
      }
    }
  }
  const Slot* find(int32_t a, int32_t b) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = make_key(a, b);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i];
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t make_key(int32_t a, int32_t b) {
    return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
  }
  static uint64_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// ---------------------------------------------------------------- pre-tokenizer regexes
enum : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4 };

inline uint8_t char_class(uint32_t cp) {
  if (cp < 0x80) {
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return kLetter;
    if (cp >= '0' && cp <= '9') return kNumber;
    return (cp == ' ' || (cp >= 9 && cp <= 13)) ? kSpace : 0;
  }
  if (uni::is_letter(cp)) return kLetter;
  if (uni::is_number(cp)) return kNumber;
  return uni::is_whitespace(cp) ? kSpace : 0;
}

enum class RegexKind { kGpt2, kLlama3 };

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// End (byte offset) of the match of the pattern starting exactly at byte i (< s.size()), with
// Oniguruma's leftmost-first alternation and backtracking semantics; kNpos when none matches.
size_t match_at(std::string_view s, size_t i, RegexKind kind, int max_digits) {
  const size_t n = s.size();
  size_t len0 = 0;
  const uint32_t c = uni::decode_at(s, i, &len0);
  auto cls_at = [&](size_t p, size_t* len) -> int {  // -1 past the end
    if (p >= n) return -1;
    return char_class(uni::decode_at(s, p, len));
  };
  auto run = [&](size_t p, uint8_t want) {  // end of the run of class `want` from p
    size_t len = 0;
    while (cls_at(p, &len) == want) p += len;
    return p;
  };
  const bool llama = kind == RegexKind::kLlama3;
  // 's|'t|'re|'ve|'m|'ll|'d   (case-insensitive for Llama-3: ASCII case, and U+017F folds to s)
  if (c == '\'' && i + 1 < n) {
    size_t l1 = 0;
    uint32_t a = uni::decode_at(s, i + 1, &l1);
    if (llama) a = (a == 0x17F) ? 's' : (a >= 'A' && a <= 'Z') ? a + 32 : a;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 1 + l1;
    if ((a == 'r' || a == 'v' || a == 'l') && i + 2 < n) {
      uint32_t b = static_cast<unsigned char>(s[i + 2]);
      if (llama && b >= 'A' && b <= 'Z') b += 32;
      if ((a == 'l' && b == 'l') || (a != 'l' && b == 'e')) return i + 3;
    }
  }
  size_t len1 = 0;
  const int c_cls = char_class(c);
  const int next_cls = cls_at(i + len0, &len1);
  if (llama) {
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (c_cls == kLetter) return run(i, kLetter);
    if (c != '\r' && c != '\n' && c_cls != kNumber && next_cls == kLetter) return run(i + len0, kLetter);
    // \p{N}{1,max}
    if (c_cls == kNumber) {
      size_t p = i, len = 0;
      for (int k = 0; k < max_digits && cls_at(p, &len) == kNumber; ++k) p += len;
      return p;
    }
  } else {
    // ' ?\p{L}+' then ' ?\p{N}+'
    for (uint8_t want : {kLetter, kNumber}) {
      if (c == ' ' && next_cls == want) return run(i + len0, want);
      if (c_cls == want) return run(i, want);
    }
  }
  // ' ?[^\s\p{L}\p{N}]+' (Llama-3: followed by [\r\n]*)
  size_t p = kNpos;
  if (c == ' ' && next_cls == 0) p = i + len0;
  if (c_cls == 0) p = i;
  if (p != kNpos) {
    p = run(p, 0);
    if (llama)
      while (p < n && (s[p] == '\r' || s[p] == '\n')) ++p;
    return p;
  }
  // Whitespace run [i, p): the last character starts at `last`, the last \r or \n at `last_nl`.
  size_t last = i, last_nl = kNpos, len = 0;
  p = i;
  while (cls_at(p, &len) == kSpace) {
    if (s[p] == '\r' || s[p] == '\n') last_nl = p;
    last = p;
    p += len;
  }
  if (p == i) return kNpos;
  if (llama && last_nl != kNpos) return last_nl + 1;  // \s*[\r\n]+
  // \s+(?!\S) gives the run minus its last character unless the run ends the text; \s+ the run.
  return (p == n || last == i) ? p : last;
}

// ---------------------------------------------------------------- splitting helpers
enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Span {
  size_t begin, end;
  bool match;
};

// Splits [0, size) into matched and unmatched spans, as tokenizers' Pattern::find_matches.
std::vector<Span> regex_spans(std::string_view s, RegexKind kind, int max_digits) {
  std::vector<Span> out;
  size_t prev = 0, i = 0;
  while (i < s.size()) {
    const size_t end = match_at(s, i, kind, max_digits);
    if (end == kNpos) {
      size_t len = 0;
      uni::decode_at(s, i, &len);
      i += len;
      continue;
    }
    if (prev != i) out.push_back({prev, i, false});
    out.push_back({i, end, true});
    prev = i = end;
  }
  if (prev != s.size()) out.push_back({prev, s.size(), false});
  return out;
}

std::vector<Span> literal_spans(std::string_view s, const std::string& lit) {
  std::vector<Span> out;
  size_t prev = 0;
  for (size_t i = s.find(lit); i != kNpos; i = s.find(lit, prev)) {
    if (prev != i) out.push_back({prev, i, false});
    out.push_back({i, i + lit.size(), true});
    prev = i + lit.size();
  }
  if (prev != s.size()) out.push_back({prev, s.size(), false});
  return out;
}

// NormalizedString::split: turns matched/unmatched spans into pieces per the behavior.
std::vector<Span> apply_behavior(const std::vector<Span>& spans, Behavior behavior) {
  std::vector<Span> acc;
  bool previous = false;
  switch (behavior) {
    case Behavior::kIsolated:
      for (const Span& sp : spans) acc.push_back({sp.begin, sp.end, false});
      return acc;
    case Behavior::kRemoved:
      return spans;
    case Behavior::kContiguous:
      for (const Span& sp : spans) {
        if (sp.match == previous && !acc.empty())
          acc.back().end = sp.end;
        else
          acc.push_back({sp.begin, sp.end, false});
        previous = sp.match;
      }
      return acc;
    case Behavior::kMergedWithPrevious:
      for (const Span& sp : spans) {
        if (sp.match && !previous && !acc.empty())
          acc.back().end = sp.end;
        else
          acc.push_back({sp.begin, sp.end, false});
        previous = sp.match;
      }
      return acc;
    case Behavior::kMergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !previous && !acc.empty())
          acc.back().begin = it->begin;
        else
          acc.push_back({it->begin, it->end, false});
        previous = it->match;
      }
      std::reverse(acc.begin(), acc.end());
      return acc;
  }
  return acc;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::string out;
  size_t prev = 0;
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, prev)) {
    out.append(s, prev, i - prev).append(to);
    prev = i + from.size();
  }
  if (prev == 0) return;
  out.append(s, prev, std::string::npos);
  s.swap(out);
}

size_t whitespace_prefix(std::string_view s) {  // bytes of leading White_Space
  size_t p = 0, len = 0;
  while (p < s.size() && uni::is_whitespace(uni::decode_at(s, p, &len))) p += len;
  return p;
}

size_t whitespace_suffix_start(std::string_view s) {  // offset where trailing White_Space begins
  size_t p = 0, start = 0, len = 0;
  while (p < s.size()) {
    if (!uni::is_whitespace(uni::decode_at(s, p, &len))) start = p + len;
    p += len;
  }
  return start;
}

// Regex \w approximated as \p{L}, \p{N} or '_' (only used by single_word added tokens).
bool is_word_char(uint32_t cp) { return cp == '_' || uni::is_letter(cp) || uni::is_number(cp); }

bool get_bool(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return (it == j.end() || it->is_null()) ? fallback : it->get<bool>();
}

// ---------------------------------------------------------------- added-token trie
struct Trie {
  std::vector<std::unordered_map<unsigned char, int32_t>> next{1};
  std::vector<int32_t> value{-1};
  std::array<bool, 256> first{};
  bool empty() const { return next.size() == 1; }
  void insert(std::string_view key, int32_t v) {
    if (key.empty()) return;
    first[static_cast<unsigned char>(key[0])] = true;
    int32_t node = 0;
    for (unsigned char ch : key) {
      auto it = next[node].find(ch);
      if (it == next[node].end()) {
        next.emplace_back();
        value.push_back(-1);
        it = next[node].emplace(ch, int32_t(next.size() - 1)).first;
      }
      node = it->second;
    }
    value[node] = v;
  }
  // Longest key starting at pos: {length, value}; length 0 when none.
  std::pair<size_t, int32_t> longest(std::string_view s, size_t pos) const {
    std::pair<size_t, int32_t> best{0, -1};
    int32_t node = 0;
    for (size_t p = pos; p < s.size(); ++p) {
      auto it = next[node].find(static_cast<unsigned char>(s[p]));
      if (it == next[node].end()) break;
      node = it->second;
      if (value[node] >= 0) best = {p + 1 - pos, value[node]};
    }
    return best;
  }
};

struct AddedToken {
  std::string content, decoded;  // decoded: the normalized form for normalized tokens
  int32_t id = 0;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

struct Normalizer {
  enum Kind { kPrepend, kReplace, kStrip } kind = kPrepend;
  std::string a, b;
  bool left = false, right = false;
};

struct PreTokenizer {
  enum Kind { kSplit, kByteLevel } kind = kSplit;
  bool is_regex = false;
  RegexKind regex = RegexKind::kGpt2;
  int max_digits = 3;
  std::string literal;
  Behavior behavior = Behavior::kIsolated;
  bool invert = false, add_prefix_space = false, use_regex = true;
};

struct Decoder {
  enum Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip } kind = kByteLevel;
  std::string a, b;
  uint32_t content = 0;
  size_t start = 0, stop = 0;
};

Decoder make_decoder(Decoder::Kind kind) {
  Decoder d;
  d.kind = kind;
  return d;
}

struct Symbol {
  int32_t c, prev, next, len;
};

struct MergeItem {
  uint32_t rank;
  int32_t pos, id;
};
struct MergeOrder {  // heap order: the top is the lowest (rank, pos)
  bool operator()(const MergeItem& x, const MergeItem& y) const {
    return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
  }
};

constexpr size_t kCacheMaxWordBytes = 256;
constexpr size_t kCacheCapacity = 100000;

}  // namespace

// ================================================================ Impl
struct Tokenizer::Impl {
  std::string path;
  std::vector<Normalizer> normalizers;
  std::vector<PreTokenizer> pre_tokenizers;
  std::vector<Decoder> decoders;
  bool has_decoder = false;

  // BPE model
  std::vector<std::string> token_strings;                // every vocab key
  std::unordered_map<std::string_view, int32_t> vocab;   // views into token_strings
  std::vector<int32_t> id_to_index;                      // id -> token_strings index, -1
  PairMap merges;
  std::optional<std::string> unk_token;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  std::string prefix, suffix;
  std::array<int32_t, 256> byte_ids{};
  std::array<int32_t, 128> ascii_ids{};   // vocab id of each 1-byte character, -1 if none
  std::vector<uint8_t> in_merges;         // per id: 1 when the id is part of some merge pair

  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> added_by_content;  // content -> id
  std::unordered_map<int32_t, size_t> added_by_id;             // id -> index into `added`
  Trie raw_trie, normalized_trie;
  int64_t total_vocab_size = 0;  // get_vocab_size(true)

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("tokenizer '" + path + "': " + what);
  }
  std::optional<int32_t> find(std::string_view token) const {
    auto it = vocab.find(token);
    if (it == vocab.end()) return std::nullopt;
    return it->second;
  }

  // ------------------------------------------------------------ loading
  void load(const json& j) {
    if (!j.is_object()) fail("not a tokenizer.json (the top level is not a JSON object)");
    load_model(j.at("model"));
    if (j.contains("normalizer")) parse_normalizer(j["normalizer"]);
    if (j.contains("pre_tokenizer")) parse_pre_tokenizer(j["pre_tokenizer"]);
    if (j.contains("decoder") && !j["decoder"].is_null()) {
      has_decoder = true;
      parse_decoder(j["decoder"]);
    }
    if (j.contains("added_tokens") && !j["added_tokens"].is_null()) load_added(j["added_tokens"]);
    // Model entries plus the added tokens that are not model entries.
    total_vocab_size = int64_t(vocab.size());
    for (const auto& entry : added_by_content)
      if (!find(entry.first)) ++total_vocab_size;
  }

  void load_model(const json& m) {
    const std::string type = m.contains("type") ? m.at("type").get<std::string>()
                                                : (m.contains("merges") ? "BPE" : "?");
    if (type != "BPE") fail("unsupported model type '" + type + "' (only BPE is supported)");
    if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() > 0.0)
      fail("unsupported BPE dropout (must be null or 0)");
    const json& v = m.at("vocab");
    if (!v.is_object()) fail("model.vocab is not an object");
    token_strings.reserve(v.size());
    int32_t max_id = -1;
    for (auto it = v.begin(); it != v.end(); ++it) {
      token_strings.push_back(it.key());
      max_id = std::max(max_id, it.value().get<int32_t>());
    }
    if (max_id >= (1 << 26)) fail("vocabulary id " + std::to_string(max_id) + " is implausibly large");
    id_to_index.assign(size_t(max_id + 1), -1);
    vocab.reserve(token_strings.size());
    size_t k = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++k) {
      const int32_t id = it.value().get<int32_t>();
      if (id < 0) fail("negative id for token '" + it.key() + "'");
      vocab.emplace(token_strings[k], id);
      id_to_index[size_t(id)] = int32_t(k);
    }
    if (m.contains("unk_token") && !m["unk_token"].is_null()) unk_token = m["unk_token"].get<std::string>();
    fuse_unk = get_bool(m, "fuse_unk", false);
    byte_fallback = get_bool(m, "byte_fallback", false);
    ignore_merges = get_bool(m, "ignore_merges", false);
    if (m.contains("continuing_subword_prefix") && !m["continuing_subword_prefix"].is_null())
      prefix = m["continuing_subword_prefix"].get<std::string>();
    if (m.contains("end_of_word_suffix") && !m["end_of_word_suffix"].is_null())
      suffix = m["end_of_word_suffix"].get<std::string>();
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      byte_ids[size_t(b)] = find(name).value_or(-1);
    }
    const json& ms = m.at("merges");
    if (!ms.is_array()) fail("model.merges is not an array");
    merges.reserve(ms.size());
    in_merges.assign(id_to_index.size(), 0);
    std::string a, b;
    for (size_t rank = 0; rank < ms.size(); ++rank) {
      const json& e = ms[rank];
      if (e.is_string()) {  // legacy "a b"
        const std::string& line = e.get_ref<const std::string&>();
        const size_t sp = line.find(' ');
        if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
          fail("merge #" + std::to_string(rank + 1) + " '" + line + "' is not two tokens separated by one space");
        a = line.substr(0, sp);
        b = line.substr(sp + 1);
      } else if (e.is_array() && e.size() == 2) {
        a = e[0].get<std::string>();
        b = e[1].get<std::string>();
      } else {
        fail("merge #" + std::to_string(rank + 1) + " is neither \"a b\" nor [\"a\", \"b\"]");
      }
      const auto ia = find(a), ib = find(b);
      if (b.size() < prefix.size()) fail("merge #" + std::to_string(rank + 1) + " is shorter than the subword prefix");
      const auto merged = find(a + b.substr(prefix.size()));
      if (!ia || !ib || !merged)
        fail("merge #" + std::to_string(rank + 1) + " ('" + a + "', '" + b + "') uses a token missing from the vocabulary");
      merges.insert_or_assign(*ia, *ib, uint32_t(rank), *merged);  // duplicates: the last one wins
      in_merges[size_t(*ia)] = in_merges[size_t(*ib)] = 1;
    }
    for (int c = 0; c < 128; ++c) ascii_ids[size_t(c)] = find(std::string(1, char(c))).value_or(-1);
  }

  void parse_normalizer(const json& n) {
    if (n.is_null()) return;
    const std::string type = n.at("type").get<std::string>();
    if (type == "Sequence") {
      for (const json& sub : n.at("normalizers")) parse_normalizer(sub);
    } else if (type == "Prepend") {
      normalizers.push_back({Normalizer::kPrepend, n.at("prepend").get<std::string>(), ""});
    } else if (type == "Replace") {
      normalizers.push_back({Normalizer::kReplace, string_pattern(n, "normalizer Replace"),
                             n.at("content").get<std::string>()});
    } else if (type == "Strip") {
      Normalizer s{Normalizer::kStrip, "", ""};
      s.left = get_bool(n, "strip_left", true);
      s.right = get_bool(n, "strip_right", true);
      normalizers.push_back(s);
    } else {
      fail("unsupported normalizer type '" + type + "'");
    }
  }

  std::string string_pattern(const json& node, const std::string& where) const {
    const json& p = node.at("pattern");
    if (p.contains("String")) {
      std::string s = p["String"].get<std::string>();
      if (s.empty()) fail(where + " has an empty pattern");
      return s;
    }
    fail("unsupported " + where + " pattern " + p.dump() + " (only String patterns are supported)");
  }

  void parse_pre_tokenizer(const json& p) {
    if (p.is_null()) return;
    const std::string type = p.at("type").get<std::string>();
    if (type == "Sequence") {
      for (const json& sub : p.at("pretokenizers")) parse_pre_tokenizer(sub);
    } else if (type == "ByteLevel") {
      PreTokenizer t;
      t.kind = PreTokenizer::kByteLevel;
      t.add_prefix_space = get_bool(p, "add_prefix_space", true);
      t.use_regex = get_bool(p, "use_regex", true);
      pre_tokenizers.push_back(t);
    } else if (type == "Split") {
      PreTokenizer t;
      t.kind = PreTokenizer::kSplit;
      const json& pat = p.at("pattern");
      if (pat.contains("Regex")) {
        const std::string re = pat["Regex"].get<std::string>();
        t.is_regex = true;
        if (re == kGpt2Pattern) {
          t.regex = RegexKind::kGpt2;
        } else if (re == kLlama3Pattern || re == kQwen2Pattern) {
          t.regex = RegexKind::kLlama3;
          t.max_digits = re == kLlama3Pattern ? 3 : 1;
        } else {
          fail("unsupported Split pre_tokenizer regex '" + re +
               "' (only the GPT-2, Llama-3 and Qwen-2 patterns are implemented)");
        }
      } else {
        t.literal = string_pattern(p, "pre_tokenizer Split");
      }
      const std::string b = p.at("behavior").get<std::string>();
      if (b == "Removed") t.behavior = Behavior::kRemoved;
      else if (b == "Isolated") t.behavior = Behavior::kIsolated;
      else if (b == "MergedWithPrevious") t.behavior = Behavior::kMergedWithPrevious;
      else if (b == "MergedWithNext") t.behavior = Behavior::kMergedWithNext;
      else if (b == "Contiguous") t.behavior = Behavior::kContiguous;
      else fail("unsupported Split behavior '" + b + "'");
      t.invert = get_bool(p, "invert", false);
      pre_tokenizers.push_back(t);
    } else {
      fail("unsupported pre_tokenizer type '" + type + "'");
    }
  }

  void parse_decoder(const json& d) {
    const std::string type = d.at("type").get<std::string>();
    if (type == "Sequence") {
      for (const json& sub : d.at("decoders")) parse_decoder(sub);
    } else if (type == "ByteLevel") {
      decoders.push_back(make_decoder(Decoder::kByteLevel));
    } else if (type == "Replace") {
      Decoder r = make_decoder(Decoder::kReplace);
      r.a = string_pattern(d, "decoder Replace");
      r.b = d.at("content").get<std::string>();
      decoders.push_back(r);
    } else if (type == "ByteFallback") {
      decoders.push_back(make_decoder(Decoder::kByteFallback));
    } else if (type == "Fuse") {
      decoders.push_back(make_decoder(Decoder::kFuse));
    } else if (type == "Strip") {
      Decoder s = make_decoder(Decoder::kStrip);
      const std::string content = d.at("content").get<std::string>();
      size_t len = 0;
      if (content.empty() || uni::find_invalid_utf8(content) != kNpos ||
          (s.content = uni::decode_at(content, 0, &len), len != content.size()))
        fail("decoder Strip content must be one character");
      s.start = d.at("start").get<size_t>();
      s.stop = d.at("stop").get<size_t>();
      decoders.push_back(s);
    } else {
      fail("unsupported decoder type '" + type + "'");
    }
  }

  std::string normalize(std::string_view piece) const {
    std::string s(piece);
    for (const Normalizer& n : normalizers) {
      switch (n.kind) {
        case Normalizer::kPrepend:
          if (!s.empty()) s.insert(0, n.a);
          break;
        case Normalizer::kReplace:
          replace_all(s, n.a, n.b);
          break;
        case Normalizer::kStrip: {
          const size_t end = n.right ? whitespace_suffix_start(s) : s.size();
          const size_t begin = n.left ? std::min(whitespace_prefix(s), end) : 0;
          s = s.substr(begin, end - begin);
          break;
        }
      }
    }
    return s;
  }

  void load_added(const json& list) {
    // AddedVocabulary::add_tokens: a content already in the vocabulary keeps that id; new ones
    // are numbered from the model's vocabulary size on (the JSON id only triggers a warning).
    int32_t next_id = int32_t(vocab.size());
    for (const json& t : list) {
      AddedToken a;
      a.content = t.at("content").get<std::string>();
      if (a.content.empty()) continue;
      a.single_word = get_bool(t, "single_word", false);
      a.lstrip = get_bool(t, "lstrip", false);
      a.rstrip = get_bool(t, "rstrip", false);
      a.normalized = get_bool(t, "normalized", true);
      a.special = get_bool(t, "special", false);
      auto known = added_by_content.find(a.content);
      if (known != added_by_content.end()) a.id = known->second;
      else if (auto id = find(a.content)) a.id = *id;
      else a.id = next_id++;
      a.decoded = a.normalized && !normalizers.empty() ? normalize(a.content) : a.content;
      added_by_content[a.content] = a.id;
      auto slot = added_by_id.find(a.id);
      if (slot != added_by_id.end()) {
        added[slot->second] = a;
      } else {
        added_by_id.emplace(a.id, added.size());
        added.push_back(a);
      }
    }
    for (size_t k = 0; k < added.size(); ++k) {
      if (added[k].normalized) normalized_trie.insert(added[k].decoded, int32_t(k));
      else raw_trie.insert(added[k].content, int32_t(k));
    }
  }

  // ------------------------------------------------------------ encoding
  // AddedVocabulary::find_matches: calls emit(piece, id) with id -1 for plain text.
  template <class F>
  void split_added(std::string_view s, const Trie& trie, F&& emit) const {
    if (s.empty()) return;
    if (trie.empty()) {
      emit(s, -1);
      return;
    }
    size_t start_offset = 0, pos = 0;
    while (pos < s.size()) {
      if (!trie.first[static_cast<unsigned char>(s[pos])]) {
        ++pos;
        continue;
      }
      const auto [len, index] = trie.longest(s, pos);
      if (len == 0) {
        ++pos;
        continue;
      }
      size_t start = pos, stop = pos + len;
      pos = stop;
      const AddedToken& tok = added[size_t(index)];
      if (tok.single_word) {
        size_t l = 0;
        const std::string_view before = s.substr(0, start);
        size_t q = before.size();
        while (q > 0 && (static_cast<unsigned char>(before[q - 1]) & 0xC0) == 0x80) --q;
        const bool start_space = start == 0 || !(q > 0 && is_word_char(uni::decode_at(before, q - 1, &l)));
        const bool stop_space = stop == s.size() || !is_word_char(uni::decode_at(s, stop, &l));
        if (!start_space || !stop_space) continue;
      }
      if (tok.lstrip) start = std::max(whitespace_suffix_start(s.substr(0, start)), start_offset);
      if (tok.rstrip) stop += whitespace_prefix(s.substr(stop));
      if (start_offset < start) emit(s.substr(start_offset, start - start_offset), -1);
      emit(s.substr(start, stop - start), tok.id);
      start_offset = stop;
    }
    if (start_offset < s.size()) emit(s.substr(start_offset), -1);
  }

  void pre_tokenize(const PreTokenizer& step, std::vector<std::string>& pieces) const {
    std::vector<std::string> out;
    out.reserve(pieces.size());
    for (std::string& piece : pieces) {
      if (step.kind == PreTokenizer::kSplit) {
        std::vector<Span> spans = step.is_regex ? regex_spans(piece, step.regex, step.max_digits)
                                                : literal_spans(piece, step.literal);
        if (step.invert)
          for (Span& sp : spans) sp.match = !sp.match;
        for (const Span& sp : apply_behavior(spans, step.behavior))
          if (!sp.match && sp.end > sp.begin) out.push_back(piece.substr(sp.begin, sp.end - sp.begin));
        continue;
      }
      // ByteLevel: optional prefix space, the GPT-2 split, then bytes -> alphabet characters.
      if (step.add_prefix_space && piece[0] != ' ') piece.insert(0, 1, ' ');
      std::vector<Span> spans;
      if (step.use_regex)
        spans = regex_spans(piece, RegexKind::kGpt2, 0);
      else
        spans.push_back({0, piece.size(), true});
      const ByteAlphabet& alpha = byte_alphabet();
      for (const Span& sp : spans) {
        std::string mapped;
        mapped.reserve(2 * (sp.end - sp.begin));
        for (size_t k = sp.begin; k < sp.end; ++k) mapped += alpha.byte_to_str[static_cast<unsigned char>(piece[k])];
        out.push_back(std::move(mapped));
      }
    }
    pieces.swap(out);
  }

  // BPE::merge_word + Word::merge_all.
  void merge_word(std::string_view w, std::vector<int32_t>& out) const {
    std::vector<Symbol> syms;
    syms.reserve(w.size());
    auto add = [&](int32_t id, int32_t len) {
      const int32_t idx = int32_t(syms.size());
      if (idx > 0) syms.back().next = idx;
      syms.push_back({id, idx - 1, -1, len});
    };
    int32_t unk_id = -1, unk_len = 0;  // an unknown-token run waiting to be added
    std::string buf;
    for (size_t i = 0; i < w.size();) {
      size_t clen = 0;
      uni::decode_at(w, i, &clen);
      std::string_view s = w.substr(i, clen);
      const bool first = i == 0, last = i + clen == w.size();
      if ((!first && !prefix.empty()) || (last && !suffix.empty())) {
        buf.assign(first ? "" : prefix).append(s).append(last ? suffix : "");
        s = buf;
      }
      i += clen;
      std::optional<int32_t> id;
      if (s.size() == 1 && static_cast<unsigned char>(s[0]) < 128) {
        if (ascii_ids[static_cast<unsigned char>(s[0])] >= 0) id = ascii_ids[static_cast<unsigned char>(s[0])];
      } else {
        id = find(s);
      }
      if (id) {
        if (unk_id >= 0) add(unk_id, unk_len);
        unk_id = -1;
        add(*id, int32_t(clen));
        continue;
      }
      if (byte_fallback &&
          std::all_of(s.begin(), s.end(), [&](char ch) { return byte_ids[static_cast<unsigned char>(ch)] >= 0; })) {
        for (char ch : s) add(byte_ids[static_cast<unsigned char>(ch)], 1);
        continue;
      }
      if (!unk_token) continue;  // no unk token: the character is dropped
      if (unk_id >= 0 && fuse_unk) {
        unk_len += int32_t(clen);
      } else {
        if (unk_id >= 0) add(unk_id, unk_len);
        const auto unk = find(*unk_token);
        if (!unk) fail("unk_token '" + *unk_token + "' is not in the vocabulary");
        unk_id = *unk;
        unk_len = int32_t(clen);
      }
    }
    if (unk_id >= 0) add(unk_id, unk_len);

    // A symbol whose id is in no merge pair can never change nor be absorbed: the runs between
    // such symbols merge independently (same result, much smaller queues on long texts).
    std::vector<MergeItem> items;
    for (size_t begin = 0; begin < syms.size();) {
      size_t end = begin;
      while (end < syms.size() && in_merges[size_t(syms[end].c)]) ++end;
      if (end - begin > 1) merge_range(syms, begin, end, items);
      begin = end + 1;
    }
    for (const Symbol& sym : syms)
      if (sym.len != 0) out.push_back(sym.c);
  }

  // Word::merge_all over syms[begin, end): repeatedly applies the lowest-rank (then leftmost) merge.
  void merge_range(std::vector<Symbol>& syms, size_t begin, size_t end, std::vector<MergeItem>& items) const {
    items.clear();
    for (size_t k = begin; k + 1 < end; ++k)
      if (const auto* m = merges.find(syms[k].c, syms[k + 1].c)) items.push_back({m->rank, int32_t(k), m->id});
    const MergeOrder order;
    std::make_heap(items.begin(), items.end(), order);
    auto push = [&](uint32_t rank, int32_t pos, int32_t id) {
      items.push_back({rank, pos, id});
      std::push_heap(items.begin(), items.end(), order);
    };
    while (!items.empty()) {
      std::pop_heap(items.begin(), items.end(), order);
      const MergeItem top = items.back();
      items.pop_back();
      Symbol& cur = syms[size_t(top.pos)];
      if (cur.len == 0 || cur.next == -1) continue;
      const Symbol right = syms[size_t(cur.next)];
      const auto* m = merges.find(cur.c, right.c);
      if (!m || m->id != top.id) continue;  // expired entry
      syms[size_t(cur.next)].len = 0;
      cur.c = top.id;
      cur.len += right.len;
      cur.next = right.next;
      if (right.next >= 0) syms[size_t(right.next)].prev = top.pos;
      if (cur.prev >= 0)
        if (const auto* pm = merges.find(syms[size_t(cur.prev)].c, cur.c)) push(pm->rank, cur.prev, pm->id);
      if (cur.next >= 0)
        if (const auto* nm = merges.find(cur.c, syms[size_t(cur.next)].c)) push(nm->rank, top.pos, nm->id);
    }
  }

  void tokenize_piece(const std::string& piece, std::vector<int64_t>& out) const {
    if (piece.empty()) return;
    if (ignore_merges) {
      if (auto id = find(piece)) {
        out.push_back(*id);
        return;
      }
    }
    const bool cacheable = piece.size() < kCacheMaxWordBytes;
    if (cacheable) {
      std::lock_guard<std::mutex> lock(cache_mutex);
      auto it = cache.find(piece);
      if (it != cache.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int32_t> ids;
    merge_word(piece, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
      std::lock_guard<std::mutex> lock(cache_mutex);
      if (cache.size() < kCacheCapacity) cache.emplace(piece, std::move(ids));
    }
  }

  void encode_normalized(std::string_view segment, std::vector<int64_t>& out) const {
    std::vector<std::string> pieces{std::string(segment)};
    for (const PreTokenizer& step : pre_tokenizers) pre_tokenize(step, pieces);
    for (const std::string& piece : pieces) tokenize_piece(piece, out);
  }

  std::vector<int64_t> encode(const std::string& text) const {
    const size_t bad = uni::find_invalid_utf8(text);
    if (bad != kNpos) fail("input text is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
    std::vector<int64_t> out;
    split_added(text, raw_trie, [&](std::string_view piece, int32_t id) {
      if (id >= 0) {
        out.push_back(id);
        return;
      }
      const std::string normalized = normalize(piece);
      split_added(normalized, normalized_trie, [&](std::string_view sub, int32_t sub_id) {
        if (sub_id >= 0)
          out.push_back(sub_id);
        else
          encode_normalized(sub, out);
      });
    });
    return out;
  }

  // ------------------------------------------------------------ decoding
  std::string decode(const std::vector<int64_t>& ids) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0 || id > INT32_MAX) continue;
      auto a = added_by_id.find(int32_t(id));
      if (a != added_by_id.end())
        tokens.push_back(added[a->second].decoded);
      else if (size_t(id) < id_to_index.size() && id_to_index[size_t(id)] >= 0)
        tokens.push_back(token_strings[size_t(id_to_index[size_t(id)])]);
    }
    if (!has_decoder) {
      std::string joined;
      for (size_t k = 0; k < tokens.size(); ++k) joined.append(k ? " " : "").append(tokens[k]);
      return joined;
    }
    for (const Decoder& d : decoders) run_decoder(d, tokens);
    std::string result;
    for (const std::string& t : tokens) result += t;
    return result;
  }

  static void run_decoder(const Decoder& d, std::vector<std::string>& tokens) {
    switch (d.kind) {
      case Decoder::kByteLevel: {
        const ByteAlphabet& alpha = byte_alphabet();
        std::string bytes;
        for (const std::string& t : tokens) {
          std::string mapped;
          bool ok = true;
          for (size_t p = 0, len = 0; p < t.size() && ok; p += len) {
            const uint32_t cp = uni::decode_at(t, p, &len);
            ok = cp < alpha.cp_to_byte.size() && alpha.cp_to_byte[cp] >= 0;
            if (ok) mapped.push_back(static_cast<char>(alpha.cp_to_byte[cp]));
          }
          bytes += ok ? mapped : t;
        }
        tokens.assign(1, uni::utf8_lossy(bytes));
        break;
      }
      case Decoder::kReplace:
        for (std::string& t : tokens) replace_all(t, d.a, d.b);
        break;
      case Decoder::kByteFallback: {
        std::vector<std::string> out;
        std::string pending;
        auto flush = [&] {
          if (pending.empty()) return;
          if (uni::find_invalid_utf8(pending) == kNpos)
            out.push_back(pending);
          else
            out.insert(out.end(), pending.size(), uni::encode_utf8(uni::kReplacementChar));
          pending.clear();
        };
        for (std::string& t : tokens) {
          int byte = -1;
          if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
            auto hex = [](char ch) {
              if (ch >= '0' && ch <= '9') return ch - '0';
              if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') return (ch | 0x20) - 'a' + 10;
              return -1;
            };
            const int hi = hex(t[3]), lo = hex(t[4]);  // u8::from_str_radix also takes "+F"
            byte = (hi >= 0 && lo >= 0) ? hi * 16 + lo : (t[3] == '+' && lo >= 0) ? lo : -1;
          }
          if (byte >= 0) {
            pending.push_back(static_cast<char>(byte));
          } else {
            flush();
            out.push_back(std::move(t));
          }
        }
        flush();
        tokens.swap(out);
        break;
      }
      case Decoder::kFuse: {
        std::string joined;
        for (const std::string& t : tokens) joined += t;
        tokens.assign(1, joined);
        break;
      }
      case Decoder::kStrip:
        // Removes up to `start` leading and `stop` trailing `content` characters.
        for (std::string& t : tokens) {
          size_t begin = 0, end = t.size(), len = 0;
          for (size_t k = 0; k < d.start && begin < end && uni::decode_at(t, begin, &len) == d.content; ++k)
            begin += len;
          for (size_t k = 0; k < d.stop && end > begin; ++k) {
            size_t q = end - 1;
            while (q > begin && (static_cast<unsigned char>(t[q]) & 0xC0) == 0x80) --q;
            if (uni::decode_at(t, q, &len) != d.content) break;
            end = q;
          }
          t = t.substr(begin, end - begin);
        }
        break;
    }
  }
};

// ================================================================ public interface
Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Tokenizer Tokenizer::from_file(const std::string& tokenizer_json_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(tokenizer_json_path, ec))
    throw Error("tokenizer '" + tokenizer_json_path + "': file not found (or not a regular file)");
  std::ifstream in(tokenizer_json_path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (!in) throw Error("tokenizer '" + tokenizer_json_path + "': cannot read the file");
  auto impl = std::make_shared<Impl>();
  impl->path = tokenizer_json_path;
  json j;
  try {
    j = json::parse(buffer.str());
  } catch (const json::exception& e) {
    throw Error("tokenizer '" + tokenizer_json_path + "': not valid JSON: " + e.what());
  }
  try {
    impl->load(j);
  } catch (const json::exception& e) {
    throw Error("tokenizer '" + tokenizer_json_path + "': malformed tokenizer.json: " + e.what());
  }
  return Tokenizer(std::move(impl));
}

std::vector<int64_t> Tokenizer::encode(const std::string& text) const { return impl_->encode(text); }

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const { return impl_->decode(ids); }

int64_t Tokenizer::vocab_size() const { return impl_->total_vocab_size; }

std::string Tokenizer::id_to_token(int64_t id) const {
  if (id >= 0 && id <= INT32_MAX) {
    auto a = impl_->added_by_id.find(int32_t(id));
    if (a != impl_->added_by_id.end()) return impl_->added[a->second].content;
    if (size_t(id) < impl_->id_to_index.size() && impl_->id_to_index[size_t(id)] >= 0)
      return impl_->token_strings[size_t(impl_->id_to_index[size_t(id)])];
  }
  throw Error("tokenizer '" + impl_->path + "': no token has id " + std::to_string(id));
}

std::optional<int64_t> Tokenizer::token_to_id(const std::string& token) const {
  auto a = impl_->added_by_content.find(token);
  if (a != impl_->added_by_content.end()) return a->second;
  if (auto id = impl_->find(token)) return *id;
  return std::nullopt;
}

}  // namespace ptq
