#pragma once
// JSON files in and out: reading names the file on every failure, writing is atomic
// (temporary file in the same directory, fsync, rename) so a crash never leaves half a record.
#include <nlohmann/json.hpp>
#include <string>

namespace ptq {

using json = nlohmann::json;

std::string read_text_file(const std::string& path);
json read_json_file(const std::string& path);
json parse_json(const std::string& text, const std::string& what);
void write_file_atomic(const std::string& path, const std::string& content);

// A file written under a temporary name and renamed into place by commit(); destroyed
// uncommitted, it removes the temporary and leaves any earlier file untouched. The temporary of
// <dir>/<name> is <dir>/.ptq-tmp-<pid>-<n>-<name>.partial (atomic_temp_path), a name only this
// program makes, so cleaning up after a killed writer can never touch a user's file.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n);
  void commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};
// The temporary path AtomicFile writes <dir>/<name> under, for process `pid` and counter `n`.
std::string atomic_temp_path(const std::string& path, long pid, unsigned long n);
// True when `file_name` (no directory) is exactly such a temporary; *pid gets its writer's pid.
bool parse_atomic_temp_name(const std::string& file_name, long* pid);
void write_json_atomic(const std::string& path, const json& j, int indent = 1);
bool file_exists(const std::string& path);
bool is_directory(const std::string& path);
std::string join_path(const std::string& a, const std::string& b);

}  // namespace ptq
