#pragma once
// A sweep as a Slurm job array (torch-free: ptq_spec, so the GUI submits and watches through it
// too). Layout, in the shared results directory DIR:
//   DIR/.slurm/<sweep-id>/runs-<n>.txt       submission n's runs, one ExperimentSpec JSON per line
//   DIR/.slurm/<sweep-id>/submit-<n>.sbatch  its sbatch script (array task i runs line i + 1)
//   DIR/.slurm/<sweep-id>/submissions.json   every accepted submission: number, job id, run ids
//   DIR/.slurm/<sweep-id>/logs/<job>_<task>.out, exits/<job>_<task> (the task's exit status)
// <sweep-id> is a hash of the sweep's run ids, so the same spec finds its submissions again.
// Each task runs `ptq run LINE --results DIR --skip-complete`: the record is written atomically
// and a complete record is never rewritten (a task whose record is already complete does
// nothing). Task states come from squeue (pending, running) and sacct (how a task ended) when
// they answer, and from the records and exit files otherwise; a cluster without accounting
// storage (sacct says "disabled") still gets pending / running / complete / failed.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/experiment/experiment_spec.h"

namespace ptq {

struct SlurmOptions {
  std::string partition, time, account;  // "" = the cluster's default
  int gpus_per_run = -1;   // -1: 1 when the runs' device is not "cpu", else 0
  int cpus_per_run = 0;    // 0: the partition's default
  int array_limit = 0;     // %K: at most K tasks at once; 0: no limit
  std::vector<std::string> sbatch_args;  // more "#SBATCH" options, each as written ("--qos=high")
  std::string ptq;         // the ptq executable the tasks run (the same build on every node)
  bool resume = false;     // redo runs whose <run_id>.json exists but is not complete
};

struct SlurmSubmission {
  int number = 0;
  std::string job_id;  // the array's job id
  std::vector<std::string> run_ids;  // array task i runs run_ids[i]
  std::string submitted_at;
};

// What one submission would carry, and where its files go.
struct SlurmPlan {
  std::string results_dir, sweep_id, dir;  // dir = results_dir/.slurm/sweep_id
  int number = 1;
  std::string list_path, script_path;
  std::vector<ExperimentSpec> runs;       // without a complete record, not queued already
  std::vector<std::string> complete;      // run ids with a complete record (skipped)
  std::vector<std::string> queued;        // "run_id (job_task, state)" still in the queue (skipped)
  std::string script;
  std::vector<std::string> sbatch_argv;   // sbatch --parsable SCRIPT
  nlohmann::json to_json() const;
};

std::string slurm_sweep_id(const std::vector<ExperimentSpec>& runs);
std::string slurm_dir(const std::string& results_dir, const std::string& sweep_id);
std::vector<SlurmSubmission> read_submissions(const std::string& dir);

// Plans the next submission of `runs` (the whole expanded sweep). Throws ptq::Error when an
// earlier submission still has tasks in the queue and options.resume is off, or when a run has
// an incomplete <run_id>.json and options.resume is off, or for bad options.
SlurmPlan plan_slurm(const std::vector<ExperimentSpec>& runs, const std::string& results_dir,
                     const SlurmOptions& options);
// The sbatch script of a plan (plan.script); exposed for the tests.
std::string sbatch_script(const SlurmPlan& plan, const SlurmOptions& options, const std::string& device);
// Writes the run list and the script (also for a dry run).
void write_slurm_files(const SlurmPlan& plan);
// Writes the files, runs sbatch and records the submission. Throws ptq::Error with sbatch's
// message (no Slurm on PATH, no such partition, ...) and where the files were left.
SlurmSubmission submit_slurm(const SlurmPlan& plan);

struct SlurmTaskStatus {
  std::string run_id;
  std::string state;        // "complete", "pending", "running", "failed", "not submitted"
  std::string job;          // "<job>_<task>" of the latest submission that carried the run
  std::string slurm_state;  // squeue's or sacct's word (PENDING, RUNNING, CANCELLED, ...), or ""
  std::string detail;       // why it failed, the queue's reason for pending, ...
  std::string log, record;  // paths ("" when there is none)
};

struct SlurmStatus {
  std::string sweep_id, dir;
  std::vector<SlurmTaskStatus> runs;
  std::vector<std::string> job_ids;  // of every submission
  std::string notes;                 // squeue / sacct trouble (e.g. accounting disabled)
  nlohmann::json to_json() const;    // {"sweep_id", "dir", "jobs", "counts", "runs": [...], "notes"}
};

SlurmStatus slurm_status(const std::vector<ExperimentSpec>& runs, const std::string& results_dir);
// scancel on every submission of the sweep that still has tasks in the queue; returns their job
// ids. Throws ptq::Error when scancel fails or is not on PATH.
std::vector<std::string> slurm_cancel(const std::vector<ExperimentSpec>& runs, const std::string& results_dir);

// True when sbatch is on PATH (the GUI offers the Slurm target then).
bool slurm_available();

}  // namespace ptq
