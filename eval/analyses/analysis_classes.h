#pragma once
// Factories of the analyses' steps (one class per analysis, in the files named below); bound to
// their catalog ids in analysis_steps.cpp.
#include <memory>

#include "eval/analyses/analysis_steps.h"

namespace ptq::analyses {

std::unique_ptr<AnalysisSteps> make_size();        // size_analysis.cpp
std::unique_ptr<AnalysisSteps> make_compare();     // eval_analyses.cpp
std::unique_ptr<AnalysisSteps> make_perplexity();  // eval_analyses.cpp
std::unique_ptr<AnalysisSteps> make_kurtosis();    // kurtosis_analysis.cpp
std::unique_ptr<AnalysisSteps> make_tasks();       // task_analyses.cpp
std::unique_ptr<AnalysisSteps> make_lastword();    // task_analyses.cpp
std::unique_ptr<AnalysisSteps> make_token_kl();    // token_kl_analysis.cpp
std::unique_ptr<AnalysisSteps> make_samples();     // samples_analysis.cpp
std::unique_ptr<AnalysisSteps> make_outliers();    // outlier_analysis.cpp
std::unique_ptr<AnalysisSteps> make_quant_grid();  // quant_grid_analysis.cpp
std::unique_ptr<AnalysisSteps> make_column_error();  // column_error_analysis.cpp
std::unique_ptr<AnalysisSteps> make_divergence();    // divergence_analysis.cpp

}  // namespace ptq::analyses
