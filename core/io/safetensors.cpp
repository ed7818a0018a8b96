#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"

namespace ptq {

namespace {

struct DtypeEntry {
  const char* name;
  size_t size;
  at::ScalarType type;
  bool supported;
};

// Integer dtypes torch cannot hold (U16/U32/U64) and FP8 are recognised but refused at load time.
const DtypeEntry kDtypes[] = {
    {"F64", 8, at::kDouble, true},   {"F32", 4, at::kFloat, true},     {"F16", 2, at::kHalf, true},
    {"BF16", 2, at::kBFloat16, true}, {"I64", 8, at::kLong, true},      {"I32", 4, at::kInt, true},
    {"I16", 2, at::kShort, true},    {"I8", 1, at::kChar, true},       {"U8", 1, at::kByte, true},
    {"BOOL", 1, at::kBool, true},    {"U16", 2, at::kShort, false},    {"U32", 4, at::kInt, false},
    {"U64", 8, at::kLong, false},    {"F8_E4M3", 1, at::kByte, false}, {"F8_E5M2", 1, at::kByte, false},
};

const DtypeEntry* find_dtype(const std::string& name) {
  for (const auto& e : kDtypes)
    if (name == e.name) return &e;
  return nullptr;
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

size_t safetensors_dtype_size(const std::string& dtype) {
  const DtypeEntry* e = find_dtype(dtype);
  if (!e) throw Error("unknown safetensors dtype '" + dtype + "'");
  return e->size;
}

at::ScalarType safetensors_to_scalar_type(const std::string& dtype, const std::string& tensor_name) {
  const DtypeEntry* e = find_dtype(dtype);
  if (!e) throw Error("tensor '" + tensor_name + "' has unknown dtype '" + dtype + "'");
  if (!e->supported)
    throw Error("tensor '" + tensor_name + "' has dtype " + dtype + ", which this build cannot load");
  return e->type;
}

std::string scalar_type_to_safetensors(at::ScalarType t) {
  for (const auto& e : kDtypes)
    if (e.supported && e.type == t) return e.name;
  throw Error(std::string("cannot store tensors of type ") + c10::toString(t) + " in safetensors");
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY);
  if (fd_ < 0) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error("'" + path + "' is not a regular file");
  }
  size_ = uint64_t(st.st_size);
  auto fail = [&](const std::string& why) {
    if (map_) ::munmap(map_, size_);
    ::close(fd_);
    map_ = nullptr;
    fd_ = -1;
    throw Error("corrupt safetensors file '" + path + "': " + why);
  };
  if (size_ < 8) fail("file is " + std::to_string(size_) + " bytes, shorter than the 8-byte header length");
  void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
  if (m == MAP_FAILED) fail(std::string("mmap failed: ") + std::strerror(errno));
  map_ = static_cast<uint8_t*>(m);
  uint64_t n = read_u64_le(map_);
  if (n > size_ - 8)
    fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size_) +
         " bytes)");
  data_start_ = 8 + n;
  const uint64_t data_size = size_ - data_start_;
  json header;
  try {
    header = json::parse(reinterpret_cast<const char*>(map_ + 8), reinterpret_cast<const char*>(map_ + 8 + n));
  } catch (const json::exception& e) {
    fail(std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) fail("header is not a JSON object");
  std::vector<const TensorInfo*> order;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (it.value().is_object())
        for (auto m2 = it.value().begin(); m2 != it.value().end(); ++m2)
          if (m2.value().is_string()) metadata_[m2.key()] = m2.value().get<std::string>();
      continue;
    }
    const json& v = it.value();
    TensorInfo ti;
    ti.name = it.key();
    try {
      ti.dtype = v.at("dtype").get<std::string>();
      ti.shape = v.at("shape").get<std::vector<int64_t>>();
      auto off = v.at("data_offsets").get<std::vector<uint64_t>>();
      if (off.size() != 2) fail("tensor '" + ti.name + "' has data_offsets of length " + std::to_string(off.size()));
      ti.begin = off[0];
      ti.end = off[1];
    } catch (const json::exception& e) {
      fail("entry for tensor '" + ti.name + "' is malformed (" + e.what() + ")");
    }
    const DtypeEntry* de = find_dtype(ti.dtype);
    if (!de) fail("tensor '" + ti.name + "' has unknown dtype '" + ti.dtype + "'");
    for (auto d : ti.shape)
      if (d < 0) fail("tensor '" + ti.name + "' has a negative dimension");
    if (ti.end < ti.begin) fail("tensor '" + ti.name + "' has data_offsets end before begin");
    if (ti.end > data_size)
      fail("tensor '" + ti.name + "' ends at byte " + std::to_string(ti.end) + " but the data section has " +
           std::to_string(data_size) + " bytes (file truncated?)");
    uint64_t expect = uint64_t(ti.numel()) * de->size;
    if (ti.end - ti.begin != expect)
      fail("tensor '" + ti.name + "' spans " + std::to_string(ti.end - ti.begin) + " bytes but its shape and dtype need " +
           std::to_string(expect));
    tensors_.emplace(ti.name, std::move(ti));
  }
  for (const auto& kv : tensors_) order.push_back(&kv.second);
  std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->begin < order[i - 1]->end && order[i]->end > order[i]->begin)
      fail("tensors '" + order[i - 1]->name + "' and '" + order[i]->name + "' overlap");
  ::madvise(map_, size_, MADV_SEQUENTIAL);
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
  if (fd_ >= 0) ::close(fd_);
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("tensor '" + name + "' not found in '" + path_ + "'");
  return it->second;
}

at::Tensor SafetensorsFile::load(const std::string& name) const {
  const TensorInfo& ti = info(name);
  at::ScalarType t = safetensors_to_scalar_type(ti.dtype, name);
  at::Tensor out = at::empty(ti.shape, at::TensorOptions().dtype(t));
  std::memcpy(out.data_ptr(), map_ + data_start_ + ti.begin, ti.end - ti.begin);
  return out;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> cpu;
  uint64_t off = 0;
  for (const auto& kv : tensors) {
    at::Tensor t = kv.second.to(at::kCPU).contiguous();
    uint64_t bytes = uint64_t(t.numel()) * t.element_size();
    header[kv.first] = {{"dtype", scalar_type_to_safetensors(t.scalar_type())},
                        {"shape", t.sizes().vec()},
                        {"data_offsets", {off, off + bytes}}};
    off += bytes;
    cpu.push_back(t);
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');  // align the data section to 8 bytes
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t((uint64_t(h.size()) >> (8 * i)) & 0xff);
  AtomicFile f(path);
  f.write(len, 8);
  f.write(h.data(), h.size());
  for (const auto& t : cpu) f.write(t.data_ptr(), size_t(t.numel()) * t.element_size());
  f.commit();
}

}  // namespace ptq
