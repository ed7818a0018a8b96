#include "core/text/tokenizer.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/text/bpe.h"
#include "core/runtime/errors.h"
#include "core/text/pretokenizer.h"
#include "core/text/unicode.h"

// Behaviour follows Hugging Face tokenizers (Rust) step by step: added tokens are split out of
// the raw text, each remaining piece is normalized, split by the pre-tokenizers (pretokenizer.cpp),
// and each pre-token goes through the BPE model (bpe.cpp: merge_word / merge_all of tokenizers'
// bpe/word.rs). This file holds the tokenizer.json loading, the added tokens, the normalizers,
// the decoders and the encode/decode glue.

namespace ptq {
namespace {

using json = nlohmann::json;
namespace uni = ptq::unicode;
constexpr size_t kNpos = std::string_view::npos;
using detail::Behavior;
using detail::PreTokenizer;

// ---------------------------------------------------------------- text helpers
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

}  // namespace

// ================================================================ Impl
struct Tokenizer::Impl {
  std::string path;
  std::vector<Normalizer> normalizers;
  std::vector<PreTokenizer> pre_tokenizers;
  std::vector<Decoder> decoders;
  bool has_decoder = false;

  detail::BpeModel model;  // vocabulary, merges and the merge engine (bpe.h)

  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> added_by_content;  // content -> id
  std::unordered_map<int32_t, size_t> added_by_id;             // id -> index into `added`
  Trie raw_trie, normalized_trie;
  int64_t total_vocab_size = 0;  // get_vocab_size(true)

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("tokenizer '" + path + "': " + what);
  }
  std::optional<int32_t> find(std::string_view token) const { return model.find(token); }

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
    total_vocab_size = int64_t(model.vocab.size());
    for (const auto& entry : added_by_content)
      if (!find(entry.first)) ++total_vocab_size;
  }

  void load_model(const json& m) {
    model.path = path;
    const std::string type = m.contains("type") ? m.at("type").get<std::string>()
                                                : (m.contains("merges") ? "BPE" : "?");
    if (type != "BPE") fail("unsupported model type '" + type + "' (only BPE is supported)");
    if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() > 0.0)
      fail("unsupported BPE dropout (must be null or 0)");
    const json& v = m.at("vocab");
    if (!v.is_object()) fail("model.vocab is not an object");
    model.token_strings.reserve(v.size());
    int32_t max_id = -1;
    for (auto it = v.begin(); it != v.end(); ++it) {
      model.token_strings.push_back(it.key());
      max_id = std::max(max_id, it.value().get<int32_t>());
    }
    if (max_id >= (1 << 26)) fail("vocabulary id " + std::to_string(max_id) + " is implausibly large");
    model.id_to_index.assign(size_t(max_id + 1), -1);
    model.vocab.reserve(model.token_strings.size());
    size_t k = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++k) {
      const int32_t id = it.value().get<int32_t>();
      if (id < 0) fail("negative id for token '" + it.key() + "'");
      model.vocab.emplace(model.token_strings[k], id);
      model.id_to_index[size_t(id)] = int32_t(k);
    }
    if (m.contains("unk_token") && !m["unk_token"].is_null()) model.unk_token = m["unk_token"].get<std::string>();
    model.fuse_unk = get_bool(m, "fuse_unk", false);
    model.byte_fallback = get_bool(m, "byte_fallback", false);
    model.ignore_merges = get_bool(m, "ignore_merges", false);
    if (m.contains("continuing_subword_prefix") && !m["continuing_subword_prefix"].is_null())
      model.prefix = m["continuing_subword_prefix"].get<std::string>();
    if (m.contains("end_of_word_suffix") && !m["end_of_word_suffix"].is_null())
      model.suffix = m["end_of_word_suffix"].get<std::string>();
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      model.byte_ids[size_t(b)] = find(name).value_or(-1);
    }
    const json& ms = m.at("merges");
    if (!ms.is_array()) fail("model.merges is not an array");
    model.merges.reserve(ms.size());
    model.in_merges.assign(model.id_to_index.size(), 0);
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
      if (b.size() < model.prefix.size()) fail("merge #" + std::to_string(rank + 1) + " is shorter than the subword prefix");
      const auto merged = find(a + b.substr(model.prefix.size()));
      if (!ia || !ib || !merged)
        fail("merge #" + std::to_string(rank + 1) + " ('" + a + "', '" + b + "') uses a token missing from the vocabulary");
      model.merges.insert_or_assign(*ia, *ib, uint32_t(rank), *merged);  // duplicates: the last one wins
      model.in_merges[size_t(*ia)] = model.in_merges[size_t(*ib)] = 1;
    }
    for (int c = 0; c < 128; ++c) model.ascii_ids[size_t(c)] = find(std::string(1, char(c))).value_or(-1);
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
        if (!detail::recognize_split_regex(re, &t.regex, &t.max_digits))
          fail("unsupported Split pre_tokenizer regex '" + re +
               "' (only the GPT-2, Llama-3 and Qwen-2 patterns are implemented)");
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
    int32_t next_id = int32_t(model.vocab.size());
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

  void encode_normalized(std::string_view segment, std::vector<int64_t>& out) const {
    std::vector<std::string> pieces{std::string(segment)};
    for (const PreTokenizer& step : pre_tokenizers) detail::pre_tokenize(step, pieces);
    for (const std::string& piece : pieces) model.tokenize(piece, out);
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
      else if (size_t(id) < model.id_to_index.size() && model.id_to_index[size_t(id)] >= 0)
        tokens.push_back(model.token_strings[size_t(model.id_to_index[size_t(id)])]);
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
      case Decoder::kByteLevel:
        tokens.assign(1, detail::byte_level_decode(tokens));
        break;
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
    const detail::BpeModel& model = impl_->model;
    if (size_t(id) < model.id_to_index.size() && model.id_to_index[size_t(id)] >= 0)
      return model.token_strings[size_t(model.id_to_index[size_t(id)])];
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
