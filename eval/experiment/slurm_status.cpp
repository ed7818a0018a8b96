// The watching half of eval/experiment/slurm_backend.h: squeue and sacct, the state of every run,
// and scancel.
#include <sstream>

#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"
#include "core/runtime/subprocess.h"
#include "eval/experiment/slurm_backend.h"
#include "eval/experiment/slurm_queue.h"

namespace ptq {

namespace slurm {

std::string all_lines(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    line = first_line(line);
    if (!line.empty()) out += (out.empty() ? "" : " / ") + line;
  }
  return out;
}

std::string first_line(const std::string& text) {
  std::string s = text.substr(0, text.find('\n'));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  return s.substr(b);
}

namespace {

std::string joined(const std::vector<std::string>& ids) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ",") + id;
  return s;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(line);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

// A program's failure in words: "squeue: <its first line> (exit N)".
std::string failure(const std::string& program, const ProcessResult& r) {
  if (!r.started) return program + ": " + r.error;
  const std::string msg = first_line(r.err.empty() ? r.out : r.err);
  return program + ": " + (msg.empty() ? "failed" : msg) + " (exit " + std::to_string(r.exit_code) + ")";
}

}  // namespace

std::map<std::string, TaskState> squeue_tasks(const std::vector<std::string>& job_ids, bool* ok, std::string* note) {
  std::map<std::string, TaskState> out;
  *ok = true;
  if (job_ids.empty()) return out;
  // -r: one line per array task, pending ones too; %F_%K = "<array job>_<task>". Jobs squeue no
  // longer knows are simply absent (older versions answer "Invalid job id" when none is known).
  const ProcessResult r = run_process({"squeue", "-h", "-r", "-j", joined(job_ids), "-o", "%F|%K|%T|%r"});
  if (!r.started || (r.exit_code != 0 && r.err.find("Invalid job id") == std::string::npos)) {
    *ok = false;
    *note = failure("squeue", r);
    return out;
  }
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(line, '|');
    if (f.size() < 3) continue;
    out[f[0] + "_" + f[1]] = {f[2], f.size() > 3 && f[3] != "None" ? f[3] : std::string()};
  }
  return out;
}

std::map<std::string, TaskState> sacct_tasks(const std::vector<std::string>& job_ids, std::string* note) {
  std::map<std::string, TaskState> out;
  if (job_ids.empty()) return out;
  const ProcessResult r = run_process({"sacct", "-n", "-P", "-X", "-j", joined(job_ids), "-o", "JobID,State,ExitCode"});
  if (!r.started || r.exit_code != 0) {
    *note = failure("sacct", r);
    return out;
  }
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(line, '|');
    if (f.size() < 2 || f[0].find('[') != std::string::npos) continue;  // "12_[3-9]": not started
    out[f[0]] = {f[1].substr(0, f[1].find(' ')), f.size() > 2 ? "exit " + f[2] : std::string()};
  }
  return out;
}

bool is_running(const std::string& s) {
  return s == "RUNNING" || s == "COMPLETING" || s == "SUSPENDED" || s == "STOPPED" || s == "SIGNALING" ||
         s == "STAGE_OUT" || s == "RESIZING";
}

bool in_queue(const std::string& s) {
  if (is_running(s)) return true;
  return s == "PENDING" || s == "CONFIGURING" || s == "REQUEUED" || s == "REQUEUE_FED" || s == "REQUEUE_HOLD" ||
         s == "RESV_DEL_HOLD" || s == "SPECIAL_EXIT";
}

}  // namespace slurm

namespace {

// The latest submission that carried each run: "<job>_<task>".
std::map<std::string, std::string> latest_tasks(const std::vector<SlurmSubmission>& subs) {
  std::map<std::string, std::string> out;
  for (const auto& s : subs)
    for (size_t i = 0; i < s.run_ids.size(); ++i) out[s.run_ids[i]] = s.job_id + "_" + std::to_string(i);
  return out;
}

// How a run that has no complete record and is not in the queue ended.
void ended(SlurmTaskStatus& t, const std::map<std::string, slurm::TaskState>& acct, const std::string& dir) {
  t.state = "failed";
  if (auto it = acct.find(t.job); it != acct.end()) {
    t.slurm_state = it->second.state;
    t.detail = it->second.state + (it->second.detail.empty() ? "" : ", " + it->second.detail);
  }
  const std::string exit_file = join_path(join_path(dir, "exits"), t.job);
  std::string detail;
  if (file_exists(exit_file)) {
    std::string code = slurm::first_line(read_text_file(exit_file));
    detail = "ptq run exited " + code + " without a complete record";
  } else {
    detail = "ended without a complete record (killed, cancelled or out of time: see the log)";
  }
  t.detail = t.detail.empty() ? detail : t.detail + "; " + detail;
}

}  // namespace

nlohmann::json SlurmStatus::to_json() const {
  nlohmann::json rs = nlohmann::json::array();
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& r : runs) {
    counts[r.state] = counts.value(r.state, 0) + 1;
    rs.push_back({{"run_id", r.run_id}, {"state", r.state}, {"job", r.job}, {"slurm_state", r.slurm_state},
                  {"detail", r.detail}, {"log", r.log}, {"record", r.record}});
  }
  return {{"sweep_id", sweep_id}, {"dir", dir}, {"jobs", job_ids}, {"counts", counts}, {"runs", rs}, {"notes", notes}};
}

SlurmStatus slurm_status(const std::vector<ExperimentSpec>& runs, const std::string& results_dir) {
  SlurmStatus st;
  st.sweep_id = slurm_sweep_id(runs);
  st.dir = slurm_dir(results_dir, st.sweep_id);
  const auto subs = read_submissions(st.dir);
  for (const auto& s : subs) st.job_ids.push_back(s.job_id);
  const auto latest = latest_tasks(subs);
  bool queue_ok = true;
  std::string queue_note, acct_note;
  const auto queue = slurm::squeue_tasks(st.job_ids, &queue_ok, &queue_note);
  const auto acct = slurm::sacct_tasks(st.job_ids, &acct_note);
  for (const auto& r : runs) {
    SlurmTaskStatus t;
    t.run_id = r.run_id();
    if (auto it = latest.find(t.run_id); it != latest.end()) {
      t.job = it->second;
      t.log = join_path(join_path(st.dir, "logs"), t.job + ".out");
      if (!file_exists(t.log)) t.log.clear();
    }
    const auto q = queue.find(t.job);
    if (record_complete(results_dir, t.run_id)) {
      t.state = "complete";
      t.record = join_path(results_dir, t.run_id + ".json");
    } else if (t.job.empty()) {
      t.state = "not submitted";
    } else if (q != queue.end() && slurm::in_queue(q->second.state)) {
      t.state = slurm::is_running(q->second.state) ? "running" : "pending";
      t.slurm_state = q->second.state;
      t.detail = q->second.detail;
    } else if (!queue_ok) {
      t.state = "unknown";
      t.detail = queue_note;
    } else {
      ended(t, acct, st.dir);
    }
    st.runs.push_back(std::move(t));
  }
  st.notes = queue_note;
  if (!acct_note.empty()) st.notes += (st.notes.empty() ? "" : "; ") + acct_note + " (states from squeue and the records)";
  return st;
}

std::vector<std::string> slurm_cancel(const std::vector<ExperimentSpec>& runs, const std::string& results_dir) {
  const std::string dir = slurm_dir(results_dir, slurm_sweep_id(runs));
  std::vector<std::string> ids;
  for (const auto& s : read_submissions(dir)) ids.push_back(s.job_id);
  if (ids.empty()) throw Error("sweep " + slurm_sweep_id(runs) + " was never submitted to Slurm from '" + results_dir + "'");
  bool ok = false;
  std::string note;
  const auto queue = slurm::squeue_tasks(ids, &ok, &note);
  if (!ok) throw Error("cannot tell which jobs of the sweep are queued: " + note);
  std::vector<std::string> active;
  for (const auto& id : ids)
    for (const auto& [task, state] : queue)
      if (task.rfind(id + "_", 0) == 0 && slurm::in_queue(state.state)) {
        active.push_back(id);
        break;
      }
  if (active.empty()) return active;
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), active.begin(), active.end());
  const ProcessResult r = run_process(argv);
  if (!r.started) throw Error("cannot cancel: scancel: " + r.error);
  if (r.exit_code != 0)
    throw Error("scancel " + slurm::first_line(r.err.empty() ? r.out : r.err) + " (exit " + std::to_string(r.exit_code) + ")");
  return active;
}

}  // namespace ptq
