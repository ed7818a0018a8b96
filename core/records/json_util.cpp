#include "core/records/json_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>
#include <vector>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Builds the document from SAX events with an explicit stack of open containers, so neither the
// parse nor anything later (copy, dump, destruction) recurses deeper than max_depth.
class BoundedDomBuilder {
 public:
  BoundedDomBuilder(json& root, const std::string& what, size_t max_depth)
      : root_(root), what_(what), max_depth_(max_depth) {}

  bool null() { return add(json(nullptr)), true; }
  bool boolean(bool v) { return add(json(v)), true; }
  bool number_integer(json::number_integer_t v) { return add(json(v)), true; }
  bool number_unsigned(json::number_unsigned_t v) { return add(json(v)), true; }
  bool number_float(json::number_float_t v, const json::string_t&) { return add(json(v)), true; }
  bool string(json::string_t& v) { return add(json(std::move(v))), true; }
  bool binary(json::binary_t& v) { return add(json::binary(std::move(v))), true; }
  bool start_object(std::size_t) { return open(json::object()), true; }
  bool start_array(std::size_t) { return open(json::array()), true; }
  bool end_object() { return stack_.pop_back(), true; }
  bool end_array() { return stack_.pop_back(), true; }
  bool key(json::string_t& k) {
    if (stack_.back()->contains(k))
      throw Error("malformed JSON in " + what_ + ": key \"" + k + "\" appears twice in one object");
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception& e) {
    throw Error("malformed JSON in " + what_ + ": " + e.what());
  }

 private:
  json* add(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    json& slot = top[key_];
    slot = std::move(v);
    return &slot;
  }
  void open(json&& container) {
    if (stack_.size() >= max_depth_)
      throw Error("malformed JSON in " + what_ + ": nested deeper than " + std::to_string(max_depth_) +
                  " levels (the most this program accepts)");
    stack_.push_back(add(std::move(container)));
  }

  json& root_;
  const std::string& what_;
  size_t max_depth_;
  std::vector<json*> stack_;
  std::string key_;
};

}  // namespace

void require_regular_file(const std::string& path, const std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error("cannot open " + what + " '" + path + "': " + errno_text());
  if (S_ISDIR(st.st_mode)) throw Error(what + " '" + path + "' is a directory, expected a file");
  if (!S_ISREG(st.st_mode))
    throw Error(what + " '" + path + "' is not a regular file (a pipe, socket or device); refusing to read it");
}

std::string read_text_file(const std::string& path) {
  require_regular_file(path);
  // O_NONBLOCK: if the path was swapped for a FIFO after the stat, open must not wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open '" + path + "': " + errno_text());
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("'" + path + "' is not a regular file; refusing to read it");
  }
  std::string out;
  out.reserve(size_t(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t k = ::read(fd, buf, sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      std::string why = errno_text();
      ::close(fd);
      throw Error("cannot read '" + path + "': " + why);
    }
    if (k == 0) break;
    out.append(buf, size_t(k));
  }
  ::close(fd);
  return out;
}

json parse_json(const char* begin, const char* end, const std::string& what, size_t max_depth) {
  json root;
  BoundedDomBuilder builder(root, what, max_depth);
  json::sax_parse(begin, end, &builder);
  return root;
}

json parse_json(const std::string& text, const std::string& what, size_t max_depth) {
  return parse_json(text.data(), text.data() + text.size(), what, max_depth);
}

json read_json_file(const std::string& path, size_t max_depth) {
  return parse_json(read_text_file(path), "'" + path + "'", max_depth);
}

size_t json_depth(const json& j) {
  size_t deepest = 0;
  std::vector<std::pair<const json*, size_t>> todo{{&j, 0}};
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const json& child : *node) todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

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
