#include "core/records/result_store.h"

#include <dirent.h>
#include <signal.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/runtime/text_util.h"

namespace ptq {

std::string utc_now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void ensure_results_dir(const std::string& dir) {
  if (dir.empty()) throw Error("no results directory given");
  // mkdir -p
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      throw Error("cannot create results directory '" + dir + "': " + std::strerror(errno) + " ('" + part + "')");
  }
  if (!is_directory(dir)) throw Error("results directory '" + dir + "' exists but is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw Error("results directory '" + dir + "' is not writable: " + std::strerror(errno));
}

namespace {

// The path of the first NaN / Inf number inside `j` ("" when none): JSON writes them as null,
// so a record holding one would look measured when nothing was.
std::string non_finite_at(const nlohmann::json& j, const std::string& path) {
  if (j.is_number_float() && !std::isfinite(j.get<double>())) return path;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string p = non_finite_at(it.value(), path + "." + it.key());
      if (!p.empty()) return p;
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      std::string p = non_finite_at(j[i], path + "[" + std::to_string(i) + "]");
      if (!p.empty()) return p;
    }
  }
  return "";
}

}  // namespace

std::string write_record(const std::string& dir, const nlohmann::json& record) {
  if (!record.is_object() || !record.contains("run_id") || !record["run_id"].is_string())
    throw Error("a result record needs a string 'run_id'");
  const std::string id = record["run_id"].get<std::string>();
  if (id.empty() || id.find('/') != std::string::npos || id[0] == '.')
    throw Error("run_id '" + id + "' is not a safe file name");
  if (record.value("status", std::string()) == "complete" && record.contains("metrics")) {
    const std::string bad = non_finite_at(record["metrics"], "metrics");
    if (!bad.empty())
      throw Error("record '" + id + "' has a NaN or Inf at " + bad + "; it is not written as complete");
  }
  const std::string path = join_path(dir, id + ".json");
  write_json_atomic(path, record);
  return path;
}

namespace {

// "" when `j` is a complete record of the current schema, else why not.
std::string record_problem(const nlohmann::json& j) {
  if (!j.is_object() || j.value("schema", std::string()) != kResultSchemaName)
    return std::string("not a ") + kResultSchemaName + " record";
  if (!j.contains("schema_version") || !j["schema_version"].is_number_integer())
    return "no integer schema_version";
  const int v = j["schema_version"].get<int>();
  if (v > kResultSchemaVersion)
    return "schema_version " + std::to_string(v) + " is newer than this program's " +
           std::to_string(kResultSchemaVersion);
  if (!j.contains("run_id") || !j["run_id"].is_string()) return "no run_id";
  return "";
}

}  // namespace

bool record_complete(const std::string& dir, const std::string& run_id) {
  const std::string path = join_path(dir, run_id + ".json");
  if (!file_exists(path)) return false;
  try {
    nlohmann::json j = read_json_file(path);
    if (!(record_problem(j).empty() && j["schema_version"] == kResultSchemaVersion && j["run_id"] == run_id &&
          j.value("status", std::string()) == "complete"))
      return false;
    // A run with an eval text is complete only with a measured PPL (older versions wrote "ppl":
    // null, from NaN, and marked the record complete).
    const bool has_eval = j.contains("spec") && j["spec"].is_object() && j["spec"].contains("eval") &&
                          j["spec"]["eval"].is_object();
    return !has_eval || (j.contains("metrics") && j["metrics"].is_object() && j["metrics"].contains("ppl") &&
                         j["metrics"]["ppl"].is_number());
  } catch (const std::exception&) {
    return false;
  }
}

int remove_stale_temp_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    long pid = 0;
    // Only this program's own temporaries (.ptq-tmp-<pid>-<n>-<name>.partial), only regular
    // files, only of processes that are gone: nothing else in the folder is ever touched.
    if (!parse_atomic_temp_name(e->d_name, &pid) || pid == long(::getpid())) continue;
    if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;  // still running (or not ours to judge)
    const std::string path = join_path(dir, e->d_name);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    stale.push_back(path);
  }
  ::closedir(d);
  int removed = 0;
  for (const auto& p : stale) removed += ::unlink(p.c_str()) == 0;
  return removed;
}

std::vector<StoredRecord> list_records(const std::string& dir, std::vector<std::string>* problems) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw Error("cannot read results directory '" + dir + "': " + std::strerror(errno));
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (ends_with(n, ".json") && n[0] != '.') names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<StoredRecord> out;
  for (const auto& n : names) {
    const std::string path = join_path(dir, n);
    if (is_directory(path)) continue;
    std::string why;
    try {
      nlohmann::json j = read_json_file(path);
      why = record_problem(j);
      if (why.empty()) {
        out.push_back({path, std::move(j)});
        continue;
      }
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (problems) problems->push_back(path + ": " + why);
  }
  return out;
}

}  // namespace ptq
