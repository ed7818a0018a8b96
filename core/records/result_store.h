#pragma once
// The results directory is the workbench's store: one JSON record per run, `<run_id>.json`,
// written atomically (temp file + rename), never rewritten in place by a later run unless asked.
// Schema: docs/results-schema.md (kResultSchemaVersion). Torch-free (ptq_spec): the GUI reads and
// writes records through it; the provenance a record carries is in core/records/provenance.h.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

constexpr int kResultSchemaVersion = 1;
constexpr const char* kResultSchemaName = "ptq-workbench.result";

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
