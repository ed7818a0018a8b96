#pragma once
// Where the workbench meets the engine: the runner and device resolver its job queue gets, and the
// checkpoint reader of its model library. views/ and ptq_jobs never link the engine themselves.
#include "views/jobs/job_worker.h"
#include "views/panels/model_library_panel.h"

namespace ptq::gui {

views::JobEngine engineForJobs();  // ptq::engine_runner + ptq::resolve_device
views::ModelLibraryPanel::CheckpointReader checkpointReader();  // ptq::summarize_checkpoint
// The engine's check of runs before any starts (ptq::run_problems, eval/experiment/sweep_validation.h:
// models, devices, groups against every layer, files and their token counts, calibration memory),
// one problem a line with the runs it affects; empty when every run can start.
QString runProblems(const std::vector<nlohmann::json>& specs);

}  // namespace ptq::gui
