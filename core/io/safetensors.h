#pragma once
// safetensors files: header validated up front (safetensors_header.h), tensors read one at a time
// with pread. No memory map: a file truncated or rewritten by another process while it is open
// (a sweep streaming layers from it) gives a ptq::Error naming the file, never a SIGBUS.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/safetensors_header.h"

namespace ptq {

at::ScalarType safetensors_to_scalar_type(const std::string& dtype, const std::string& tensor_name);
std::string scalar_type_to_safetensors(at::ScalarType t);

class SafetensorsFile {
 public:
  // Opens the file (a regular file only: a FIFO or device is refused without blocking) and
  // validates the header as parse_safetensors_header does. Throws ptq::Error naming the file.
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return tensors_.count(name) > 0; }
  const TensorInfo& info(const std::string& name) const;
  uint64_t file_size() const { return size_; }

  // A CPU tensor owning a copy of the bytes (safe after the file is closed). Throws ptq::Error
  // when the file has shrunk or changed since it was opened.
  at::Tensor load(const std::string& name) const;
  // The same, read straight into memory allocated with `where` (CPU options: pinned memory for an
  // asynchronous copy to a GPU).
  at::Tensor load(const std::string& name, const at::TensorOptions& where) const;
  // An F8_E4M3 / F8_E5M2 tensor's bytes as uint8 of its shape (LibTorch 1.13 has no FP8 type).
  at::Tensor load_fp8_bytes(const std::string& name) const;

 private:
  void read_at(void* dst, uint64_t n, uint64_t offset, const std::string& tensor) const;
  void check_unchanged(const std::string& tensor) const;

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  int64_t mtime_ns_ = 0;
  uint64_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (any device; moved to CPU, made contiguous) atomically.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// As above; the uint8 tensors named in `byte_dtypes` are written with that safetensors dtype
// (e.g. "F8_E4M3": FP8 bytes encoded by the caller).
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const std::map<std::string, std::string>& byte_dtypes);

}  // namespace ptq
