#include "core/text/bpe.h"

#include <algorithm>

#include "core/runtime/errors.h"
#include "core/text/unicode.h"

namespace ptq::detail {
namespace {

namespace uni = ptq::unicode;

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

// Word::merge_all over syms[begin, end): repeatedly applies the lowest-rank (then leftmost) merge.
void merge_range(const PairMap& merges, std::vector<Symbol>& syms, size_t begin, size_t end,
                 std::vector<MergeItem>& items) {
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

}  // namespace

void BpeModel::merge_word(std::string_view w, std::vector<int32_t>& out) const {
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
      if (!unk) throw Error("tokenizer '" + path + "': unk_token '" + *unk_token + "' is not in the vocabulary");
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
    if (end - begin > 1) merge_range(merges, syms, begin, end, items);
    begin = end + 1;
  }
  for (const Symbol& sym : syms)
    if (sym.len != 0) out.push_back(sym.c);
}

void BpeModel::tokenize(const std::string& piece, std::vector<int64_t>& out) const {
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

}  // namespace ptq::detail
