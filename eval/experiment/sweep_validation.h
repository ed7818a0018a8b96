#pragma once
// Checks a whole set of runs (a sweep, or the one run of `ptq run` / `ptq quantize`) before the
// first one starts, so nothing fails after earlier runs spent time: every run's model folder and
// config, its device, group sizes against every layer's input width (overrides included, and
// overrides that match no layer), the eval / calibration / task files (present, and long enough
// in tokens of the model's tokenizer), and the memory the calibration activations need against
// what the device has free. Every problem is reported, not just the first.
// The CLI calls check_runs; the GUI can call run_problems to show the list.
#include <string>
#include <vector>

#include "core/io/model_config.h"
#include "eval/experiment/experiment.h"

namespace ptq {

struct RunProblem {
  std::string problem;               // names the file / key / layer, what was asked and what is possible
  std::vector<std::string> run_ids;  // the runs it affects
};

// Every problem of `runs` (empty when all can start). Identical problems of several runs are
// listed once with every run they affect. Reads configs, tokenizers and texts (each once).
std::vector<RunProblem> run_problems(const std::vector<ExperimentSpec>& runs);

// Throws ptq::Error listing every problem (one per line) when there is any.
void check_runs(const std::vector<ExperimentSpec>& runs);

// Bytes the calibration activations of `spec` need on its device: the inputs and full-precision
// outputs of a block for every calibration window (2 x nsamples x seqlen x hidden x dtype bytes),
// plus one batch's attention scores (calib batch x heads x seqlen^2 x 4 bytes); -1 on overflow.
int64_t calibration_activation_bytes(const ExperimentSpec& spec, const ModelConfig& cfg);

}  // namespace ptq
