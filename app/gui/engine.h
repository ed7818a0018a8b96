#pragma once
// Where the workbench meets the engine: the runner and device resolver its job queue gets, and the
// checkpoint reader of its model library. views/ and ptq_jobs never link the engine themselves.
#include "views/jobs/job_worker.h"
#include "views/panels/model_library_panel.h"

namespace ptq::gui {

views::JobEngine engineForJobs();  // ptq::engine_runner + ptq::resolve_device
views::ModelLibraryPanel::CheckpointReader checkpointReader();  // ptq::summarize_checkpoint

}  // namespace ptq::gui
