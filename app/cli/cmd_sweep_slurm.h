#pragma once
// `ptq sweep SPEC --results DIR --slurm | --status | --cancel` (cmd_sweep_slurm.cpp): a sweep as a
// Slurm job array through eval/experiment/slurm_backend.h.
#include <string>

#include "app/cli/args.h"

namespace ptq::cli {

// True when the arguments ask for the Slurm backend (--slurm, --status or --cancel).
bool wants_slurm(const Args& a);
// Runs it; `spec_path` is the sweep spec. Returns the exit code.
int sweep_on_slurm(const Args& a, const std::string& spec_path);

}  // namespace ptq::cli
