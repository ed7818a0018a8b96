#include "core/text/pretokenizer.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "core/text/unicode.h"

namespace ptq::detail {
namespace {

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

}  // namespace

bool recognize_split_regex(const std::string& pattern, RegexKind* kind, int* max_digits) {
  if (pattern == kGpt2Pattern) {
    *kind = RegexKind::kGpt2;
    return true;
  }
  if (pattern == kLlama3Pattern || pattern == kQwen2Pattern) {
    *kind = RegexKind::kLlama3;
    *max_digits = pattern == kLlama3Pattern ? 3 : 1;
    return true;
  }
  return false;
}

void pre_tokenize(const PreTokenizer& step, std::vector<std::string>& pieces) {
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

std::string byte_level_decode(const std::vector<std::string>& tokens) {
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
  return uni::utf8_lossy(bytes);
}

}  // namespace ptq::detail
