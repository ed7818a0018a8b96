#pragma once
// Running another program and collecting what it printed (torch-free: ptq_spec). The Slurm
// backend (eval/experiment/slurm_backend.h) runs sbatch, squeue, sacct and scancel through it, from
// the CLI and from the GUI alike.
#include <string>
#include <vector>

namespace ptq {

struct ProcessResult {
  bool started = false;  // false: the program could not be started (see `error`)
  int exit_code = -1;    // the exit status; 128 + N when killed by signal N
  std::string out, err;  // what it wrote on stdout and stderr
  std::string error;     // why it did not start ("not found on PATH", ...)
};

// Runs argv[0] (looked up on PATH when it has no '/') with argv, stdin from /dev/null, and waits
// for it. Never throws for a program that fails or cannot start: the caller words the message.
ProcessResult run_process(const std::vector<std::string>& argv);

// The full path of `program` on PATH ("" when it is not there or not executable).
std::string find_on_path(const std::string& program);

}  // namespace ptq
