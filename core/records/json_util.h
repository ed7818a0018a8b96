#pragma once
// JSON files in and out: reading names the file on every failure, writing is atomic
// (temporary file in the same directory, fsync, rename) so a crash never leaves half a record.
#include <nlohmann/json.hpp>
#include <string>

namespace ptq {

using json = nlohmann::json;

// The deepest nesting any JSON input may have. Hub configs need fewer than 10 levels and
// tokenizers fewer than 20; serde_json (what the safetensors reference uses) stops at 128 too.
constexpr size_t kMaxJsonDepth = 128;

// Reads a regular file; refuses FIFOs, devices and directories before opening (so a named pipe
// never blocks), opens with O_NONBLOCK. Errors name the file.
std::string read_text_file(const std::string& path);
// Throws ptq::Error unless `path` names a regular file (after following symlinks); `what`
// says what the file is for ("config.json", "shard") in the message.
void require_regular_file(const std::string& path, const std::string& what = "file");

// Every JSON input goes through parse_json: a SAX parse that builds the document without
// recursion, refuses nesting deeper than `max_depth` and duplicate keys in an object (the last
// one would silently win), and names `what` (usually the quoted file path) in every error.
json parse_json(const char* begin, const char* end, const std::string& what, size_t max_depth = kMaxJsonDepth);
json parse_json(const std::string& text, const std::string& what, size_t max_depth = kMaxJsonDepth);
json read_json_file(const std::string& path, size_t max_depth = kMaxJsonDepth);
// Nesting depth of a document (a scalar is 0, [] is 1), computed without recursion.
size_t json_depth(const json& j);
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
