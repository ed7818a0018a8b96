#include "core/records/json_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/runtime/errors.h"

namespace ptq {

std::string read_text_file(const std::string& path) {
  if (is_directory(path)) throw Error("'" + path + "' is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error("malformed JSON in " + what + ": " + e.what());
  }
}

json read_json_file(const std::string& path) { return parse_json(read_text_file(path), "'" + path + "'"); }

namespace {
const char kTempPrefix[] = ".ptq-tmp-";
const char kTempSuffix[] = ".partial";
std::atomic<unsigned long> temp_counter{0};
}  // namespace

std::string atomic_temp_path(const std::string& path, long pid, unsigned long n) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + kTempPrefix + std::to_string(pid) + "-" + std::to_string(n) + "-" + name + kTempSuffix;
}

bool parse_atomic_temp_name(const std::string& n, long* pid) {
  const size_t pre = sizeof kTempPrefix - 1, suf = sizeof kTempSuffix - 1;
  if (n.size() <= pre + suf || n.compare(0, pre, kTempPrefix) != 0 || n.compare(n.size() - suf, suf, kTempSuffix) != 0)
    return false;
  // <pid>-<n>-<name>: two runs of digits, each ended by '-', then a non-empty name.
  size_t i = pre;
  std::string digits[2];
  for (auto& d : digits) {
    while (i < n.size() && std::isdigit(static_cast<unsigned char>(n[i]))) d += n[i++];
    if (d.empty() || d.size() > 18 || i >= n.size() || n[i] != '-') return false;
    ++i;
  }
  if (i >= n.size() - suf) return false;
  *pid = std::stol(digits[0]);
  return *pid > 0;
}

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  // O_EXCL: never write into another file of that name (a stale temporary of a reused pid).
  for (int attempt = 0; fd_ < 0; ++attempt) {
    tmp_ = atomic_temp_path(path, long(::getpid()), temp_counter.fetch_add(1));
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd_ < 0 && (errno != EEXIST || attempt > 1000)) throw Error("cannot write '" + path + "': " + std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t k = ::write(fd_, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      throw Error("cannot write '" + path_ + "': " + std::strerror(errno));
    }
    p += k;
    n -= size_t(k);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(tmp_.c_str());
    throw Error("cannot write '" + path_ + "': " + std::strerror(errno));
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp_.c_str());
    throw Error("cannot write '" + path_ + "': " + std::strerror(e));
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.write(content.data(), content.size());
  f.commit();
}

void write_json_atomic(const std::string& path, const json& j, int indent) {
  write_file_atomic(path, j.dump(indent) + "\n");
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

}  // namespace ptq
