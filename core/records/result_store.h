#pragma once
// The results directory is the workbench's store: one JSON record per run, `<run_id>.json`,
// written atomically (temp file + rename), never rewritten in place by a later run unless asked.
// Schema: docs/results-schema.md (kResultSchemaVersion).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

constexpr int kResultSchemaVersion = 1;
constexpr const char* kResultSchemaName = "ptq-workbench.result";

// Provenance of the current process and a checkpoint: git commit, device description, LibTorch and
// CUDA versions, host, and the model's path, name, architecture, parameter count and sha256 of
// config.json and of the tensor index (names, dtypes, shapes).
nlohmann::json model_provenance(const std::string& model_dir);
nlohmann::json runtime_provenance(const std::string& device);
std::string utc_now_iso8601();

// Creates the directory (and parents) or throws ptq::Error naming it when it cannot be written.
void ensure_results_dir(const std::string& dir);
// Writes `record` as <dir>/<record["run_id"]>.json atomically; returns the path.
std::string write_record(const std::string& dir, const nlohmann::json& record);
// True when <dir>/<run_id>.json exists and is a complete record of the current schema.
bool record_complete(const std::string& dir, const std::string& run_id);

// Removes temporaries of atomic writes (.ptq-tmp-<PID>-<N>-<name>.partial, core/records/json_util.h)
// that processes no longer running left in dir (a sweep killed mid-write); returns how many were
// removed. Any other file, whatever its name, is left alone.
int remove_stale_temp_files(const std::string& dir);

struct StoredRecord {
  std::string path;
  nlohmann::json record;
};
// Every readable record in dir (sorted by path); unreadable or foreign files are reported in
// `problems` (path: reason) and skipped.
std::vector<StoredRecord> list_records(const std::string& dir, std::vector<std::string>* problems = nullptr);

}  // namespace ptq
