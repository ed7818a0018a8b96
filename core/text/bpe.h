#pragma once
// The BPE model of the tokenizer (internal): vocabulary, merge table and the word merge engine
// (tokenizers' BPE::merge_word + Word::merge_all) with continuing-subword prefix, end-of-word
// suffix, unknown-token and byte-fallback handling, and a cache of merged words.
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ptq::detail {

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

// ---------------------------------------------------------------- BPE model
// Filled by the tokenizer.json loader; const methods are thread-safe.
struct BpeModel {
  std::string path;  // the tokenizer.json, named in error messages
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

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache;

  std::optional<int32_t> find(std::string_view token) const {
    auto it = vocab.find(token);
    if (it == vocab.end()) return std::nullopt;
    return it->second;
  }

  // Appends the ids of one pre-token (BPE::tokenize, through the cache).
  void tokenize(const std::string& piece, std::vector<int64_t>& out) const;

  // BPE::merge_word + Word::merge_all: the ids of word `w`, appended to out.
  void merge_word(std::string_view w, std::vector<int32_t>& out) const;
};

}  // namespace ptq::detail
