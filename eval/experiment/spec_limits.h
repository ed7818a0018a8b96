#pragma once
// The ranges every integer of a run may take, shared by the `ptq` options and the JSON specs so a
// value is accepted or refused the same way wherever it comes from. Upper bounds are sanity
// limits (far above any real run); what a run can actually afford (tokens in the text, memory) is
// checked before it starts (eval/experiment/sweep_validation.h).
#include <cstdint>
#include <limits>

namespace ptq::limits {

constexpr int64_t kMinBits = 2, kMaxBits = 8;
constexpr int64_t kMaxGroup = int64_t(1) << 30;      // -1 = per channel
constexpr int64_t kMaxSeqlen = int64_t(1) << 20;     // tokens per window
constexpr int64_t kMaxBatch = int64_t(1) << 16;      // windows per forward pass
constexpr int64_t kMaxNsamples = int64_t(1) << 24;   // calibration windows
constexpr int64_t kMaxWindows = int64_t(1) << 30;    // eval windows, task items (0 = all)
constexpr int64_t kMaxWarmup = 1000;                 // untimed benchmark passes
constexpr int64_t kMaxLayers = int64_t(1) << 16;     // decoder blocks of a made checkpoint
constexpr int64_t kMaxDivergenceTokens = int64_t(1) << 16;  // per-token KL recorded (analyses.divergence)
constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();

}  // namespace ptq::limits
