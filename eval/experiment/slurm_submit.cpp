// The submitting half of eval/experiment/slurm_backend.h: planning, the run list, the sbatch
// script, sbatch itself and the record of submissions.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "core/records/sha256.h"
#include "core/runtime/errors.h"
#include "core/runtime/subprocess.h"
#include "eval/experiment/slurm_backend.h"
#include "eval/experiment/slurm_queue.h"

namespace ptq {

namespace {

void make_dir(const std::string& d) {
  if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error("cannot create folder '" + d + "': " + std::strerror(errno));
}

// A value that goes into an "#SBATCH" line or a shell word: one line, no quote that would end it.
void check_word(const std::string& what, const std::string& v, bool allow_space) {
  for (char c : v)
    if (c == '\n' || c == '\r' || c == '\'' || (!allow_space && (c == ' ' || c == '\t')))
      throw Error(what + " '" + v + "' may not hold " + (c == '\'' ? "a quote" : c == ' ' || c == '\t' ? "spaces" : "a line break"));
}

// Slurm's time limits: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS (digits, ':' and one '-').
void check_time(const std::string& t) {
  bool ok = !t.empty() && std::isdigit(static_cast<unsigned char>(t[0])) && std::isdigit(static_cast<unsigned char>(t.back()));
  int colons = 0, dashes = 0;
  for (char c : t) {
    colons += c == ':';
    dashes += c == '-';
    ok &= std::isdigit(static_cast<unsigned char>(c)) || c == ':' || c == '-';
  }
  if (!ok || colons > 2 || dashes > 1)
    throw Error("--time '" + t + "' is not a Slurm time limit (MM, MM:SS, HH:MM:SS, D-HH:MM:SS)");
}

void check_options(const SlurmOptions& o, const std::string& results_dir) {
  if (o.ptq.empty() || o.ptq[0] != '/') throw Error("the ptq executable for the tasks must be an absolute path, got '" + o.ptq + "'");
  if (results_dir.empty() || results_dir[0] != '/') throw Error("the results directory must be an absolute path, got '" + results_dir + "'");
  check_word("the results directory", results_dir, false);
  check_word("the ptq executable", o.ptq, false);
  check_word("--partition", o.partition, false);
  check_word("--account", o.account, false);
  if (!o.time.empty()) check_time(o.time);
  if (o.array_limit < 0) throw Error("--array-limit must be 0 (no limit) or more, got " + std::to_string(o.array_limit));
  if (o.gpus_per_run < -1) throw Error("--gpus-per-run must be 0 or more, got " + std::to_string(o.gpus_per_run));
  if (o.cpus_per_run < 0) throw Error("--cpus-per-run must be 1 or more, got " + std::to_string(o.cpus_per_run));
  for (const auto& a : o.sbatch_args) {
    check_word("--sbatch-arg", a, true);
    if (a.empty() || a[0] != '-') throw Error("--sbatch-arg '" + a + "' is not an sbatch option (such as --qos=high)");
  }
}

// 'text' for the shell (check_word has refused quotes).
std::string quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::string slurm_sweep_id(const std::vector<ExperimentSpec>& runs) {
  Sha256 h;
  for (const auto& r : runs) h.update(r.run_id() + "\n");
  return h.hex_digest().substr(0, 12);
}

std::string slurm_dir(const std::string& results_dir, const std::string& sweep_id) {
  return join_path(join_path(results_dir, ".slurm"), sweep_id);
}

std::vector<SlurmSubmission> read_submissions(const std::string& dir) {
  const std::string path = join_path(dir, "submissions.json");
  std::vector<SlurmSubmission> out;
  if (!file_exists(path)) return out;
  const nlohmann::json j = read_json_file(path);
  try {
    for (const auto& s : j.at("submissions")) {
      SlurmSubmission sub;
      sub.number = s.at("number").get<int>();
      sub.job_id = s.at("job_id").get<std::string>();
      sub.run_ids = s.at("runs").get<std::vector<std::string>>();
      sub.submitted_at = s.value("submitted_at", std::string());
      out.push_back(std::move(sub));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + path + "' is not a list of submissions: " + e.what());
  }
  return out;
}

nlohmann::json SlurmPlan::to_json() const {
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& r : runs) ids.push_back(r.run_id());
  return {{"sweep_id", sweep_id}, {"dir", dir}, {"submission", number}, {"run_list", list_path},
          {"script", script_path}, {"runs", ids}, {"complete", complete}, {"queued", queued},
          {"sbatch", sbatch_argv}};
}

std::string sbatch_script(const SlurmPlan& p, const SlurmOptions& o, const std::string& device) {
  const int gpus = o.gpus_per_run >= 0 ? o.gpus_per_run : device == "cpu" ? 0 : 1;
  std::string s = "#!/bin/bash\n";
  s += "# ptq sweep " + p.sweep_id + ", submission " + std::to_string(p.number) + ": " + std::to_string(p.runs.size()) +
       " run(s); array task i runs line i+1 of the run list with `ptq run`.\n";
  s += "# Written by `ptq sweep --slurm`; `--status` watches it, `--resume --slurm` submits what is left.\n";
  s += "#SBATCH --job-name=ptq-" + p.sweep_id + "\n";
  s += "#SBATCH --array=0-" + std::to_string(p.runs.size() - 1) +
       (o.array_limit > 0 ? "%" + std::to_string(o.array_limit) : std::string()) + "\n";
  s += "#SBATCH --output=" + join_path(p.dir, "logs") + "/%A_%a.out\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.account.empty()) s += "#SBATCH --account=" + o.account + "\n";
  if (o.cpus_per_run > 0) s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus_per_run) + "\n";
  if (gpus > 0) s += "#SBATCH --gres=gpu:" + std::to_string(gpus) + "\n";
  if (!o.time.empty()) s += "#SBATCH --time=" + o.time + "\n";
  for (const auto& a : o.sbatch_args) s += "#SBATCH " + a + "\n";
  s += "set -u\n";
  s += "list=" + quoted(p.list_path) + "\nresults=" + quoted(p.results_dir) + "\nptq=" + quoted(o.ptq) + "\n";
  s += "exits=" + quoted(join_path(p.dir, "exits")) + "\n";
  s += "task=\"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n";
  s += "spec=\"${TMPDIR:-/tmp}/ptq-sweep-$task-$$.json\"\n";
  s += "sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$list\" >\"$spec\"\n";
  s += "if [ ! -s \"$spec\" ]; then\n  echo \"ptq sweep: $list has no line $((SLURM_ARRAY_TASK_ID + 1))\" >&2\n"
       "  echo 2 >\"$exits/$task\"; rm -f \"$spec\"; exit 2\nfi\n";
  s += "# One thread per CPU Slurm gave the task, unless PTQ_THREADS says otherwise.\n";
  s += "if [ -z \"${PTQ_THREADS:-}\" ] && [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export PTQ_THREADS=\"$SLURM_CPUS_PER_TASK\"; fi\n";
  s += "echo \"ptq sweep " + p.sweep_id + ": task $task on $(hostname)\" >&2\n";
  s += "\"$ptq\" run \"$spec\" --results \"$results\" --skip-complete\n";
  s += "rc=$?\nrm -f \"$spec\"\necho \"$rc\" >\"$exits/$task\"\nexit \"$rc\"\n";
  return s;
}

namespace {

// Run ids of earlier submissions whose task is still pending or running, with "job_task STATE".
std::map<std::string, std::string> queued_runs(const std::vector<SlurmSubmission>& subs) {
  std::map<std::string, std::string> out;
  if (subs.empty()) return out;
  std::vector<std::string> ids;
  for (const auto& s : subs) ids.push_back(s.job_id);
  bool ok = false;
  std::string note;
  const auto tasks = slurm::squeue_tasks(ids, &ok, &note);
  if (!ok)
    throw Error("cannot tell which runs of the earlier submissions are still queued: " + note +
                " (nothing was submitted)");
  for (const auto& s : subs)
    for (size_t i = 0; i < s.run_ids.size(); ++i) {
      auto it = tasks.find(s.job_id + "_" + std::to_string(i));
      if (it != tasks.end() && slurm::in_queue(it->second.state))
        out[s.run_ids[i]] = s.job_id + "_" + std::to_string(i) + " " + it->second.state;
    }
  return out;
}

}  // namespace

SlurmPlan plan_slurm(const std::vector<ExperimentSpec>& runs, const std::string& results_dir,
                     const SlurmOptions& options) {
  if (runs.empty()) throw Error("the sweep has no runs");
  check_options(options, results_dir);
  SlurmPlan p;
  p.results_dir = results_dir;
  p.sweep_id = slurm_sweep_id(runs);
  p.dir = slurm_dir(results_dir, p.sweep_id);
  const auto subs = read_submissions(p.dir);
  p.number = subs.empty() ? 1 : subs.back().number + 1;
  const auto queued = queued_runs(subs);
  for (const auto& r : runs) {
    const std::string id = r.run_id();
    if (record_complete(results_dir, id)) {
      p.complete.push_back(id);
    } else if (auto it = queued.find(id); it != queued.end()) {
      p.queued.push_back(id + " (" + it->second + ")");
    } else {
      const std::string path = join_path(results_dir, id + ".json");
      if (file_exists(path) && !options.resume)
        throw Error("'" + path + "' exists but is not a complete record; pass --resume to redo the run");
      p.runs.push_back(r);
    }
  }
  if (!p.queued.empty() && !options.resume)
    throw Error("sweep " + p.sweep_id + " is still in the Slurm queue (" + std::to_string(p.queued.size()) +
                " run(s) pending or running, e.g. " + p.queued.front() +
                "); watch it with --status, stop it with --cancel, or submit only what is not queued with --resume --slurm");
  p.list_path = join_path(p.dir, "runs-" + std::to_string(p.number) + ".txt");
  p.script_path = join_path(p.dir, "submit-" + std::to_string(p.number) + ".sbatch");
  if (!p.runs.empty()) p.script = sbatch_script(p, options, p.runs.front().device);
  p.sbatch_argv = {"sbatch", "--parsable", p.script_path};
  return p;
}

void write_slurm_files(const SlurmPlan& p) {
  if (p.runs.empty()) throw Error("nothing to submit: every run of sweep " + p.sweep_id + " is complete or queued");
  ensure_results_dir(p.results_dir);
  make_dir(join_path(p.results_dir, ".slurm"));
  make_dir(p.dir);
  make_dir(join_path(p.dir, "logs"));
  make_dir(join_path(p.dir, "exits"));
  std::string list;
  for (const auto& r : p.runs) list += r.to_json().dump() + "\n";
  write_file_atomic(p.list_path, list);
  write_file_atomic(p.script_path, p.script);
}

SlurmSubmission submit_slurm(const SlurmPlan& p) {
  write_slurm_files(p);
  const std::string left = "; the run list and the script are left in '" + p.dir + "' (" +
                           "runs-" + std::to_string(p.number) + ".txt, submit-" + std::to_string(p.number) + ".sbatch)";
  if (find_on_path("sbatch").empty())
    throw Error("sbatch is not on PATH: submitting needs Slurm's commands (run this on a login node of the cluster)" + left);
  const ProcessResult r = run_process(p.sbatch_argv);
  if (!r.started) throw Error("cannot run sbatch: " + r.error + left);
  if (r.exit_code != 0)
    throw Error("sbatch refused the sweep (exit " + std::to_string(r.exit_code) + "): " +
                slurm::all_lines(r.err.empty() ? r.out : r.err) + left);
  SlurmSubmission sub;
  sub.number = p.number;
  sub.job_id = slurm::first_line(r.out).substr(0, slurm::first_line(r.out).find(';'));
  if (sub.job_id.empty() || !std::all_of(sub.job_id.begin(), sub.job_id.end(), ::isdigit))
    throw Error("sbatch printed no job id (stdout '" + slurm::first_line(r.out) + "')" + left);
  for (const auto& run : p.runs) sub.run_ids.push_back(run.run_id());
  sub.submitted_at = utc_now_iso8601();
  const std::string record = join_path(p.dir, "submissions.json");
  read_submissions(p.dir);  // throws for a damaged file rather than dropping what it held
  nlohmann::json all = file_exists(record) ? read_json_file(record).at("submissions") : nlohmann::json::array();
  all.push_back({{"number", sub.number}, {"job_id", sub.job_id}, {"runs", sub.run_ids}, {"submitted_at", sub.submitted_at},
                 {"run_list", p.list_path}, {"script", p.script_path}});
  write_json_atomic(record, {{"sweep_id", p.sweep_id}, {"submissions", all}});
  return sub;
}

bool slurm_available() { return !find_on_path("sbatch").empty(); }

}  // namespace ptq
