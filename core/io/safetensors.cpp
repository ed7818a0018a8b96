#include "core/io/safetensors.h"

#include <fcntl.h>
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
  at::ScalarType type;
  bool supported;
};

// Integer dtypes torch cannot hold (U16/U32/U64) and FP8 are recognised but refused at load time.
const DtypeEntry kDtypes[] = {
    {"F64", at::kDouble, true}, {"F32", at::kFloat, true},       {"F16", at::kHalf, true},
    {"BF16", at::kBFloat16, true}, {"I64", at::kLong, true},     {"I32", at::kInt, true},
    {"I16", at::kShort, true},  {"I8", at::kChar, true},         {"U8", at::kByte, true},
    {"BOOL", at::kBool, true},  {"U16", at::kShort, false},      {"U32", at::kInt, false},
    {"U64", at::kLong, false},  {"F8_E4M3", at::kByte, false},   {"F8_E5M2", at::kByte, false},
};

const DtypeEntry* find_dtype(const std::string& name) {
  for (const auto& e : kDtypes)
    if (name == e.name) return &e;
  return nullptr;
}

int64_t mtime_ns(const struct stat& st) { return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec; }

}  // namespace

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
  require_regular_file(path, "safetensors file");
  // O_NONBLOCK: a FIFO swapped in after the check must not block the open.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error("'" + path + "' is not a regular file");
  }
  size_ = uint64_t(st.st_size);
  mtime_ns_ = mtime_ns(st);
  try {
    std::vector<uint8_t> head(8, 0);
    const uint64_t first = std::min<uint64_t>(8, size_);
    read_at(head.data(), first, 0, "");
    uint64_t n = size_ >= 8 ? safetensors_header_length(head.data()) : 0;
    if (size_ >= 8 && n <= size_ - 8 && n <= kMaxSafetensorsHeader) {
      head.resize(8 + n);
      read_at(head.data() + 8, n, 8, "");
    }
    SafetensorsHeader h = parse_safetensors_header(head.data(), head.size(), size_, path);
    data_start_ = h.data_start;
    tensors_ = std::move(h.tensors);
    metadata_ = std::move(h.metadata);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

SafetensorsFile::~SafetensorsFile() {
  if (fd_ >= 0) ::close(fd_);
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("tensor '" + name + "' not found in '" + path_ + "'");
  return it->second;
}

void SafetensorsFile::check_unchanged(const std::string& tensor) const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) throw Error("cannot read '" + path_ + "': " + std::strerror(errno));
  if (uint64_t(st.st_size) != size_ || mtime_ns(st) != mtime_ns_)
    throw Error("safetensors file '" + path_ + "' changed while it was open (was " + std::to_string(size_) +
                " bytes, now " + std::to_string(st.st_size) + "); cannot read tensor '" + tensor + "'");
}

void SafetensorsFile::read_at(void* dst, uint64_t n, uint64_t offset, const std::string& tensor) const {
  auto* p = static_cast<uint8_t*>(dst);
  while (n > 0) {
    ssize_t k = ::pread(fd_, p, size_t(std::min<uint64_t>(n, 1u << 30)), off_t(offset));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      const std::string why = k < 0 ? std::strerror(errno) : "the file ends early (truncated while open?)";
      throw Error("cannot read " + (tensor.empty() ? std::string("the header") : "tensor '" + tensor + "'") +
                  " from safetensors file '" + path_ + "': " + why);
    }
    p += k;
    n -= uint64_t(k);
    offset += uint64_t(k);
  }
}

at::Tensor SafetensorsFile::load(const std::string& name) const { return load(name, at::TensorOptions()); }

at::Tensor SafetensorsFile::load(const std::string& name, const at::TensorOptions& where) const {
  const TensorInfo& ti = info(name);
  at::ScalarType t = safetensors_to_scalar_type(ti.dtype, name);
  check_unchanged(name);
  at::Tensor out = at::empty(ti.shape, where.dtype(t));
  read_at(out.data_ptr(), ti.end - ti.begin, data_start_ + ti.begin, name);
  return out;
}

at::Tensor SafetensorsFile::load_fp8_bytes(const std::string& name) const {
  const TensorInfo& ti = info(name);
  if (ti.dtype != "F8_E4M3" && ti.dtype != "F8_E5M2")
    throw Error("tensor '" + name + "' in '" + path_ + "' is " + ti.dtype + ", not an FP8 tensor");
  check_unchanged(name);
  at::Tensor out = at::empty(ti.shape, at::TensorOptions().dtype(at::kByte));
  read_at(out.data_ptr(), ti.end - ti.begin, data_start_ + ti.begin, name);
  return out;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, tensors, metadata, {});
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const std::map<std::string, std::string>& byte_dtypes) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> cpu;
  uint64_t off = 0;
  for (const auto& kv : tensors) {
    at::Tensor t = kv.second.to(at::kCPU).contiguous();
    uint64_t bytes = uint64_t(t.numel()) * t.element_size();
    auto bd = byte_dtypes.find(kv.first);
    if (bd != byte_dtypes.end() && t.scalar_type() != at::kByte)
      throw Error("tensor '" + kv.first + "' is to be stored as " + bd->second + " but is not a byte tensor");
    header[kv.first] = {{"dtype", bd != byte_dtypes.end() ? bd->second : scalar_type_to_safetensors(t.scalar_type())},
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
