#pragma once
// SHA-256 (FIPS 180-4), for the fingerprints in result records (config.json, tensor index).
// Pure standard library.
#include <cstddef>
#include <cstdint>
#include <string>

namespace ptq {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex_digest();  // 64 lowercase hex digits; finishes the hash

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(const std::string& data);
// Hash of a file's bytes; throws ptq::Error naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace ptq
