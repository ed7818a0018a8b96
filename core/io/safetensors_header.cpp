#include "core/io/safetensors_header.h"

#include <algorithm>
#include <limits>

#include "core/records/json_util.h"
#include "core/runtime/errors.h"

namespace ptq {

namespace {

struct DtypeSize {
  const char* name;
  size_t size;
};

const DtypeSize kDtypeSizes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},     {"I16", 2},     {"I8", 1},
    {"U8", 1},  {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
};

const DtypeSize* find_dtype(const std::string& name) {
  for (const auto& e : kDtypeSizes)
    if (name == e.name) return &e;
  return nullptr;
}

// A JSON number that is a non-negative integer (not 64.5, not -1, not 1e3), as serde's usize.
bool read_size(const json& v, uint64_t* out) {
  if (!v.is_number_unsigned()) return false;  // nlohmann stores non-negative integer literals as unsigned
  *out = v.get<uint64_t>();
  return true;
}

struct HeaderReader {
  const std::string& path;
  [[noreturn]] void fail(const std::string& why) const {
    throw Error("corrupt safetensors file '" + path + "': " + why);
  }

  TensorInfo tensor(const std::string& name, const json& v) const {
    TensorInfo ti;
    ti.name = name;
    if (!v.is_object()) fail("entry for tensor '" + name + "' is not an object");
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) fail("tensor '" + name + "' has no dtype string");
    ti.dtype = dt->get<std::string>();
    const DtypeSize* de = find_dtype(ti.dtype);
    if (!de) fail("tensor '" + name + "' has unknown dtype '" + ti.dtype + "'");
    if (sh == v.end() || !sh->is_array()) fail("tensor '" + name + "' has no shape array");
    uint64_t count = 1;
    for (const json& d : *sh) {
      uint64_t n = 0;
      if (!read_size(d, &n) || n > uint64_t(std::numeric_limits<int64_t>::max()))
        fail("tensor '" + name + "' has shape entry " + d.dump() + ", expected a non-negative integer");
      if (__builtin_mul_overflow(count, n, &count))
        fail("tensor '" + name + "' has shape " + sh->dump() + " whose element count overflows 64 bits");
      ti.shape.push_back(int64_t(n));
    }
    uint64_t bytes = 0;
    if (count > uint64_t(std::numeric_limits<int64_t>::max()) || __builtin_mul_overflow(count, uint64_t(de->size), &bytes))
      fail("tensor '" + name + "' has shape " + sh->dump() + " whose byte count overflows 64 bits");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !read_size((*off)[0], &ti.begin) ||
        !read_size((*off)[1], &ti.end))
      fail("tensor '" + name + "' needs data_offsets [begin, end] of two non-negative integers");
    if (ti.end < ti.begin) fail("tensor '" + name + "' has data_offsets end before begin");
    if (ti.end - ti.begin != bytes)
      fail("tensor '" + name + "' spans " + std::to_string(ti.end - ti.begin) + " bytes but its shape and dtype need " +
           std::to_string(bytes));
    return ti;
  }

  void metadata(const json& v, SafetensorsHeader* h) const {
    if (v.is_null()) return;
    if (!v.is_object()) fail("__metadata__ is not an object of strings");
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it.value().is_string()) fail("__metadata__ entry '" + it.key() + "' is not a string");
      h->metadata[it.key()] = it.value().get<std::string>();
    }
  }

  // Sorted by (begin, end), the tensors must tile the data section: each begins where the previous
  // ended, the first at 0, the last at its end. This catches every overlap and every gap, including
  // an overlap hidden by a zero-size tensor between the overlapping pair.
  void coverage(const SafetensorsHeader& h, uint64_t data_size) const {
    std::vector<const TensorInfo*> order;
    for (const auto& kv : h.tensors) order.push_back(&kv.second);
    std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t at = 0;
    const TensorInfo* prev = nullptr;
    for (const TensorInfo* t : order) {
      if (t->end > data_size)
        fail("tensor '" + t->name + "' ends at byte " + std::to_string(t->end) + " but the data section has " +
             std::to_string(data_size) + " bytes (file truncated?)");
      if (t->begin < at) fail("tensors '" + prev->name + "' and '" + t->name + "' overlap");
      if (t->begin > at)
        fail("bytes " + std::to_string(at) + " to " + std::to_string(t->begin) + " of the data section belong to no tensor"
             " (before '" + t->name + "')");
      at = t->end;
      prev = t;
    }
    if (at != data_size)
      fail("the tensors cover " + std::to_string(at) + " bytes but the data section has " + std::to_string(data_size) +
           " (trailing bytes)");
  }
};

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

size_t safetensors_dtype_size(const std::string& dtype) {
  const DtypeSize* e = find_dtype(dtype);
  if (!e) throw Error("unknown safetensors dtype '" + dtype + "'");
  return e->size;
}

bool is_float_safetensors_dtype(const std::string& dtype) {
  return dtype == "F16" || dtype == "BF16" || dtype == "F32" || dtype == "F64";
}

uint64_t safetensors_header_length(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, uint64_t available, uint64_t file_size,
                                           const std::string& path) {
  HeaderReader r{path};
  if (file_size < 8 || available < 8)
    r.fail("file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
  const uint64_t n = safetensors_header_length(bytes);
  if (n > file_size - 8)
    r.fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(file_size) +
           " bytes)");
  if (n > kMaxSafetensorsHeader)
    r.fail("header length " + std::to_string(n) + " exceeds the " + std::to_string(kMaxSafetensorsHeader) +
           "-byte limit of the safetensors format");
  if (available < 8 + n) r.fail("header not fully read");
  SafetensorsHeader h;
  h.data_start = 8 + n;
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  const json header = parse_json(text, text + n, "the header of safetensors file '" + path + "'");
  if (!header.is_object()) r.fail("header is not a JSON object");
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") r.metadata(it.value(), &h);
    else h.tensors.emplace(it.key(), r.tensor(it.key(), it.value()));
  }
  r.coverage(h, file_size - h.data_start);
  return h;
}

}  // namespace ptq
