#include "core/text/tokenizer.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/bpe.h"
#include "core/text/tokenizer_components.h"
#include "core/text/unicode.h"

// Behaviour follows Hugging Face tokenizers (Rust) step by step: added tokens are split out of
// the raw text, each remaining piece is normalized, split by the pre-tokenizers (pretokenizer.cpp),
// and each pre-token goes through the BPE model (bpe.cpp: merge_word / merge_all of tokenizers'
// bpe/word.rs). This file holds the tokenizer.json loading, the added tokens and the encode/decode
// glue; the normalizers, pre_tokenizer and decoder sections are parsed and run by tokenizer_components.cpp.

namespace ptq {
namespace {

using json = nlohmann::json;
namespace uni = ptq::unicode;
constexpr size_t kNpos = std::string_view::npos;
using detail::Decoder;
using detail::get_bool;
using detail::Normalizer;
using detail::PreTokenizer;
using detail::whitespace_prefix;
using detail::whitespace_suffix_start;

// Regex \w approximated as \p{L}, \p{N} or '_' (only used by single_word added tokens).
bool is_word_char(uint32_t cp) { return cp == '_' || uni::is_letter(cp) || uni::is_number(cp); }

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
    if (!j.contains("model")) fail("no \"model\" section");
    load_model(j["model"]);
    if (j.contains("normalizer")) detail::parse_normalizers(j["normalizer"], path, &normalizers);
    if (j.contains("pre_tokenizer")) detail::parse_pre_tokenizers(j["pre_tokenizer"], path, &pre_tokenizers);
    if (j.contains("decoder") && !j["decoder"].is_null()) {
      has_decoder = true;
      detail::parse_decoders(j["decoder"], path, &decoders);
    }
    if (j.contains("added_tokens") && !j["added_tokens"].is_null()) load_added(j["added_tokens"]);
    // Model entries plus the added tokens that are not model entries.
    total_vocab_size = int64_t(model.vocab.size());
    for (const auto& entry : added_by_content)
      if (!find(entry.first)) ++total_vocab_size;
  }

  // Ids are integers in [0, 2^26): a value such as 4294967296 is refused, not wrapped to 0.
  void load_vocab(const json& v) {
    if (!v.is_object()) fail("model.vocab is not an object");
    if (v.empty()) fail("model.vocab is empty: the tokenizer has no tokens");
    model.token_strings.reserve(v.size());
    int32_t max_id = -1;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const json& id = it.value();
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 26) ||
          (id.is_number_unsigned() && id.get<uint64_t>() >= (1u << 26)))
        fail("id " + id.dump() + " of token '" + it.key() + "' is not an integer from 0 to " + std::to_string((1 << 26) - 1));
      model.token_strings.push_back(it.key());
      max_id = std::max(max_id, id.get<int32_t>());
    }
    model.id_to_index.assign(size_t(max_id + 1), -1);
    model.vocab.reserve(model.token_strings.size());
    size_t k = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++k) {
      const int32_t id = it.value().get<int32_t>();
      model.vocab.emplace(model.token_strings[k], id);
      model.id_to_index[size_t(id)] = int32_t(k);
    }
  }

  void load_merges(const json& ms) {
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
  }

  void load_model(const json& m) {
    model.path = path;
    if (!m.is_object()) fail("model is not an object");
    const std::string type = m.contains("type") ? m.at("type").get<std::string>()
                                                : (m.contains("merges") ? "BPE" : "?");
    if (type != "BPE") fail("unsupported model type '" + type + "' (only BPE is supported)");
    if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() > 0.0)
      fail("unsupported BPE dropout (must be null or 0)");
    if (!m.contains("vocab")) fail("model has no \"vocab\"");
    load_vocab(m["vocab"]);
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
    if (!m.contains("merges")) fail("model has no \"merges\"");
    load_merges(m["merges"]);
    for (int c = 0; c < 128; ++c) model.ascii_ids[size_t(c)] = find(std::string(1, char(c))).value_or(-1);
  }

  std::string normalize(std::string_view piece) const { return detail::apply_normalizers(normalizers, piece); }

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
  bool is_special(int64_t id) const {
    if (id < 0 || id > INT32_MAX) return false;
    auto a = added_by_id.find(int32_t(id));
    return a != added_by_id.end() && added[a->second].special;
  }

  std::string decode(const std::vector<int64_t>& ids, bool skip_special) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0 || id > INT32_MAX) continue;
      auto a = added_by_id.find(int32_t(id));
      if (a != added_by_id.end()) {
        if (!(skip_special && added[a->second].special)) tokens.push_back(added[a->second].decoded);
      } else if (size_t(id) < model.id_to_index.size() && model.id_to_index[size_t(id)] >= 0)
        tokens.push_back(model.token_strings[size_t(model.id_to_index[size_t(id)])]);
    }
    if (!has_decoder) {
      std::string joined;
      for (size_t k = 0; k < tokens.size(); ++k) joined.append(k ? " " : "").append(tokens[k]);
      return joined;
    }
    for (const Decoder& d : decoders) detail::run_decoder(d, tokens);
    std::string result;
    for (const std::string& t : tokens) result += t;
    return result;
  }
};

// ================================================================ public interface
Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Tokenizer Tokenizer::from_file(const std::string& tokenizer_json_path) {
  std::error_code ec;
  if (!std::filesystem::exists(tokenizer_json_path, ec))
    throw Error("tokenizer '" + tokenizer_json_path + "': file not found");
  // read_text_file refuses FIFOs and devices without blocking.
  return from_json_text(read_text_file(tokenizer_json_path), tokenizer_json_path);
}

Tokenizer Tokenizer::from_json_text(const std::string& text, const std::string& name) {
  auto impl = std::make_shared<Impl>();
  impl->path = name;
  const json j = parse_json(text, "tokenizer '" + name + "'");  // bounded nesting
  try {
    impl->load(j);
  } catch (const json::exception& e) {
    throw Error("tokenizer '" + name + "': malformed tokenizer.json: " + e.what());
  }
  return Tokenizer(std::move(impl));
}

std::vector<int64_t> Tokenizer::encode(const std::string& text) const { return impl_->encode(text); }

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  return impl_->decode(ids, skip_special_tokens);
}

bool Tokenizer::is_special(int64_t id) const { return impl_->is_special(id); }

int64_t Tokenizer::vocab_size() const { return impl_->total_vocab_size; }

int64_t Tokenizer::max_token_id() const {
  int64_t m = int64_t(impl_->model.id_to_index.size()) - 1;
  for (const auto& a : impl_->added) m = std::max<int64_t>(m, a.id);
  return m;
}

void Tokenizer::check_fits_model(int64_t model_vocab_size, const std::string& model) const {
  const int64_t top = max_token_id();
  if (top >= model_vocab_size)
    throw Error("tokenizer '" + impl_->path + "' has ids up to " + std::to_string(top) + " but the model " + model +
                " has vocab_size " + std::to_string(model_vocab_size) + " (config.json): they do not belong together");
}

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
