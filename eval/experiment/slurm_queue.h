#pragma once
// What squeue and sacct say about the array tasks of a sweep's submissions (internal to
// slurm_backend: slurm_submit.cpp and slurm_status.cpp). Keys are "<job>_<task>".
#include <map>
#include <string>
#include <vector>

namespace ptq::slurm {

struct TaskState {
  std::string state;   // PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, ...
  std::string detail;  // squeue's reason, or sacct's exit code
};

// Tasks of `job_ids` that squeue lists. *ok is false when squeue could not answer (then *note
// says why; the map is empty).
std::map<std::string, TaskState> squeue_tasks(const std::vector<std::string>& job_ids, bool* ok, std::string* note);
// Tasks of `job_ids` that sacct knows (empty, with *note, when accounting is not available).
std::map<std::string, TaskState> sacct_tasks(const std::vector<std::string>& job_ids, std::string* note);
// True for squeue states of a task that has not ended (pending or running).
bool in_queue(const std::string& state);
bool is_running(const std::string& state);

// The first line of `text`, trimmed (for messages).
std::string first_line(const std::string& text);
// Every non-empty line of `text`, trimmed, joined with " / " (sbatch's errors take two lines).
std::string all_lines(const std::string& text);

}  // namespace ptq::slurm
