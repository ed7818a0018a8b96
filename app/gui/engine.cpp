#include "app/gui/engine.h"

#include "core/model/model_summary.h"
#include "eval/experiment/engine_runner.h"

namespace ptq::gui {

views::JobEngine engineForJobs() { return {ptq::engine_runner(), ptq::resolve_device}; }

views::ModelLibraryPanel::CheckpointReader checkpointReader() { return ptq::summarize_checkpoint; }

}  // namespace ptq::gui
