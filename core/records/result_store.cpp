#include "core/records/result_store.h"

#include <dirent.h>
#include <signal.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"

namespace ptq {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

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

std::string write_record(const std::string& dir, const nlohmann::json& record) {
  if (!record.is_object() || !record.contains("run_id") || !record["run_id"].is_string())
    throw Error("a result record needs a string 'run_id'");
  const std::string id = record["run_id"].get<std::string>();
  if (id.empty() || id.find('/') != std::string::npos || id[0] == '.')
    throw Error("run_id '" + id + "' is not a safe file name");
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
    return record_problem(j).empty() && j["schema_version"] == kResultSchemaVersion &&
           j["run_id"] == run_id && j.value("status", std::string()) == "complete";
  } catch (const std::exception&) {
    return false;
  }
}

int remove_stale_temp_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    const size_t at = n.rfind(".tmp");
    if (at == std::string::npos) continue;
    const size_t dash = n.find('-', at);
    if (dash == std::string::npos || dash == at + 4) continue;
    const std::string pid = n.substr(at + 4, dash - at - 4);
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::kill(pid_t(std::stol(pid)), 0) == 0 || errno != ESRCH) continue;  // still running (or not ours to judge)
    stale.push_back(join_path(dir, n));
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
