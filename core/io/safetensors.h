#pragma once
// safetensors files: memory-mapped, header validated up front, tensors materialised one at a time.
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
// then the data; offsets are relative to the end of the header.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ptq {

struct TensorInfo {
  std::string name;
  std::string dtype;  // safetensors spelling: F32, F16, BF16, I8, ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets in the data section
  int64_t numel() const;
};

// Bytes per element of a safetensors dtype; throws ptq::Error for unknown names.
size_t safetensors_dtype_size(const std::string& dtype);
at::ScalarType safetensors_to_scalar_type(const std::string& dtype, const std::string& tensor_name);
std::string scalar_type_to_safetensors(at::ScalarType t);

class SafetensorsFile {
 public:
  // Maps the file and validates the header: length, JSON, known dtypes, offsets inside the data,
  // byte sizes agreeing with shapes, no overlapping tensors. Throws ptq::Error naming the file.
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

  // A CPU tensor owning a copy of the bytes (safe after the file is closed).
  at::Tensor load(const std::string& name) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint8_t* map_ = nullptr;
  uint64_t size_ = 0;
  uint64_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (any device; moved to CPU, made contiguous) atomically.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace ptq
