#include "core/text/tokenizer_components.h"

#include <algorithm>

#include "core/runtime/errors.h"
#include "core/text/unicode.h"

namespace ptq::detail {

namespace {

using json = nlohmann::json;
namespace uni = ptq::unicode;
constexpr size_t kNpos = std::string_view::npos;

// Calls leaf(node, type) for each non-Sequence component under `root`, in document order,
// expanding `Sequence` nodes (their children under `list_key`) with an explicit stack.
template <class Leaf>
void for_each_component(const json& root, const char* section, const char* list_key, const std::string& path,
                        Leaf&& leaf) {
  std::vector<const json*> todo{&root};
  while (!todo.empty()) {
    const json* n = todo.back();
    todo.pop_back();
    if (n->is_null()) continue;
    if (!n->is_object() || !n->contains("type") || !(*n)["type"].is_string())
      tokenizer_error(path, std::string(section) + " entry " + n->dump().substr(0, 80) + " has no \"type\" string");
    const std::string type = (*n)["type"].get<std::string>();
    if (type != "Sequence") {
      leaf(*n, type);
      continue;
    }
    auto list = n->find(list_key);
    if (list == n->end() || !list->is_array())
      tokenizer_error(path, std::string(section) + " Sequence has no \"" + list_key + "\" array");
    for (auto it = list->rbegin(); it != list->rend(); ++it) todo.push_back(&*it);
  }
}

std::string string_pattern(const json& node, const std::string& where, const std::string& path) {
  const json& p = node.at("pattern");
  if (p.is_object() && p.contains("String")) {
    std::string s = p["String"].get<std::string>();
    if (s.empty()) tokenizer_error(path, where + " has an empty pattern");
    return s;
  }
  tokenizer_error(path, "unsupported " + where + " pattern " + p.dump() + " (only String patterns are supported)");
}

Behavior parse_behavior(const std::string& b, const std::string& path) {
  if (b == "Removed") return Behavior::kRemoved;
  if (b == "Isolated") return Behavior::kIsolated;
  if (b == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::kMergedWithNext;
  if (b == "Contiguous") return Behavior::kContiguous;
  tokenizer_error(path, "unsupported Split behavior '" + b + "'");
}

Decoder make_decoder(Decoder::Kind kind) {
  Decoder d;
  d.kind = kind;
  return d;
}

int hex_digit(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') return (ch | 0x20) - 'a' + 10;
  return -1;
}

// The byte of a "<0xAB>" token, or -1.
int byte_token_value(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);  // u8::from_str_radix also takes "+F"
  return (hi >= 0 && lo >= 0) ? hi * 16 + lo : (t[3] == '+' && lo >= 0) ? lo : -1;
}

void decode_byte_fallback(std::vector<std::string>& tokens) {
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
    const int byte = byte_token_value(t);
    if (byte >= 0) {
      pending.push_back(static_cast<char>(byte));
    } else {
      flush();
      out.push_back(std::move(t));
    }
  }
  flush();
  tokens.swap(out);
}

// Removes up to `start` leading and `stop` trailing `content` characters of every token.
void decode_strip(const Decoder& d, std::vector<std::string>& tokens) {
  for (std::string& t : tokens) {
    size_t begin = 0, end = t.size(), len = 0;
    for (size_t k = 0; k < d.start && begin < end && uni::decode_at(t, begin, &len) == d.content; ++k) begin += len;
    for (size_t k = 0; k < d.stop && end > begin; ++k) {
      size_t q = end - 1;
      while (q > begin && (static_cast<unsigned char>(t[q]) & 0xC0) == 0x80) --q;
      if (uni::decode_at(t, q, &len) != d.content) break;
      end = q;
    }
    t = t.substr(begin, end - begin);
  }
}

}  // namespace

void tokenizer_error(const std::string& path, const std::string& what) {
  throw Error("tokenizer '" + path + "': " + what);
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

size_t whitespace_prefix(std::string_view s) {
  size_t p = 0, len = 0;
  while (p < s.size() && uni::is_whitespace(uni::decode_at(s, p, &len))) p += len;
  return p;
}

size_t whitespace_suffix_start(std::string_view s) {
  size_t p = 0, start = 0, len = 0;
  while (p < s.size()) {
    if (!uni::is_whitespace(uni::decode_at(s, p, &len))) start = p + len;
    p += len;
  }
  return start;
}

bool get_bool(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return (it == j.end() || it->is_null()) ? fallback : it->get<bool>();
}

void parse_normalizers(const json& node, const std::string& path, std::vector<Normalizer>* out) {
  for_each_component(node, "normalizer", "normalizers", path, [&](const json& n, const std::string& type) {
    if (type == "Prepend") {
      out->push_back({Normalizer::kPrepend, n.at("prepend").get<std::string>(), ""});
    } else if (type == "Replace") {
      out->push_back({Normalizer::kReplace, string_pattern(n, "normalizer Replace", path), n.at("content").get<std::string>()});
    } else if (type == "Strip") {
      Normalizer s{Normalizer::kStrip, "", ""};
      s.left = get_bool(n, "strip_left", true);
      s.right = get_bool(n, "strip_right", true);
      out->push_back(s);
    } else {
      tokenizer_error(path, "unsupported normalizer type '" + type + "'");
    }
  });
}

void parse_pre_tokenizers(const json& node, const std::string& path, std::vector<PreTokenizer>* out) {
  for_each_component(node, "pre_tokenizer", "pretokenizers", path, [&](const json& p, const std::string& type) {
    PreTokenizer t;
    if (type == "ByteLevel") {
      t.kind = PreTokenizer::kByteLevel;
      t.add_prefix_space = get_bool(p, "add_prefix_space", true);
      t.use_regex = get_bool(p, "use_regex", true);
    } else if (type == "Split") {
      t.kind = PreTokenizer::kSplit;
      const json& pat = p.at("pattern");
      if (pat.is_object() && pat.contains("Regex")) {
        const std::string re = pat["Regex"].get<std::string>();
        t.is_regex = true;
        if (!recognize_split_regex(re, &t.regex, &t.max_digits))
          tokenizer_error(path, "unsupported Split pre_tokenizer regex '" + re +
                                    "' (only the GPT-2, Llama-3 and Qwen-2 patterns are implemented)");
      } else {
        t.literal = string_pattern(p, "pre_tokenizer Split", path);
      }
      t.behavior = parse_behavior(p.at("behavior").get<std::string>(), path);
      t.invert = get_bool(p, "invert", false);
    } else {
      tokenizer_error(path, "unsupported pre_tokenizer type '" + type + "'");
    }
    out->push_back(t);
  });
}

void parse_decoders(const json& node, const std::string& path, std::vector<Decoder>* out) {
  for_each_component(node, "decoder", "decoders", path, [&](const json& d, const std::string& type) {
    if (type == "ByteLevel") {
      out->push_back(make_decoder(Decoder::kByteLevel));
    } else if (type == "Replace") {
      Decoder r = make_decoder(Decoder::kReplace);
      r.a = string_pattern(d, "decoder Replace", path);
      r.b = d.at("content").get<std::string>();
      out->push_back(r);
    } else if (type == "ByteFallback") {
      out->push_back(make_decoder(Decoder::kByteFallback));
    } else if (type == "Fuse") {
      out->push_back(make_decoder(Decoder::kFuse));
    } else if (type == "Strip") {
      Decoder s = make_decoder(Decoder::kStrip);
      const std::string content = d.at("content").get<std::string>();
      size_t len = 0;
      if (content.empty() || uni::find_invalid_utf8(content) != kNpos ||
          (s.content = uni::decode_at(content, 0, &len), len != content.size()))
        tokenizer_error(path, "decoder Strip content must be one character");
      s.start = d.at("start").get<size_t>();
      s.stop = d.at("stop").get<size_t>();
      out->push_back(s);
    } else {
      tokenizer_error(path, "unsupported decoder type '" + type + "'");
    }
  });
}

std::string apply_normalizers(const std::vector<Normalizer>& normalizers, std::string_view piece) {
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

void run_decoder(const Decoder& d, std::vector<std::string>& tokens) {
  switch (d.kind) {
    case Decoder::kByteLevel:
      tokens.assign(1, byte_level_decode(tokens));
      break;
    case Decoder::kReplace:
      for (std::string& t : tokens) replace_all(t, d.a, d.b);
      break;
    case Decoder::kByteFallback:
      decode_byte_fallback(tokens);
      break;
    case Decoder::kFuse: {
      std::string joined;
      for (const std::string& t : tokens) joined += t;
      tokens.assign(1, joined);
      break;
    }
    case Decoder::kStrip:
      decode_strip(d, tokens);
      break;
  }
}

}  // namespace ptq::detail
