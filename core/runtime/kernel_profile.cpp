#include "core/runtime/kernel_profile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#ifdef PTQ_KERNEL_PROFILE
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/version.h>
#endif

namespace ptq {

#ifdef PTQ_KERNEL_PROFILE
namespace {

namespace tp = torch::profiler::impl;
namespace ap = torch::autograd::profiler;

struct KernelTotal {
  int64_t calls = 0;
  double us = 0;
};

double duration_us(const ap::KinetoEvent& e) {
#if TORCH_VERSION_MAJOR >= 2
  return double(e.durationNs()) / 1000.0;
#else
  return double(e.durationUs());
#endif
}

void write_top(const std::string& path, const std::map<std::string, KernelTotal>& totals) {
  std::vector<std::pair<std::string, KernelTotal>> rows(totals.begin(), totals.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.us > b.second.us; });
  double all = 0;
  int64_t calls = 0;
  for (const auto& r : rows) all += r.second.us, calls += r.second.calls;
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "kernel profile: cannot write %s\n", path.c_str());
    return;
  }
  std::fprintf(f, "%s\n", nlohmann::json({{"gpu_ms", all / 1000}, {"calls", calls}, {"distinct", rows.size()}}).dump().c_str());
  for (size_t i = 0; i < rows.size() && i < 40; ++i)
    std::fprintf(f, "%s\n",
                 nlohmann::json({{"name", rows[i].first.substr(0, 160)}, {"calls", rows[i].second.calls},
                                 {"total_ms", rows[i].second.us / 1000}, {"share", all > 0 ? rows[i].second.us / all : 0}})
                     .dump()
                     .c_str());
  std::fclose(f);
}

}  // namespace
#endif

KernelProfile::KernelProfile() {
  const char* p = std::getenv("PTQ_KERNEL_PROFILE");
  if (!p || !*p) return;
  path_ = p;
#ifdef PTQ_KERNEL_PROFILE
  const tp::ProfilerConfig cfg(tp::ProfilerState::KINETO);
  const std::set<tp::ActivityType> acts = {tp::ActivityType::CPU, tp::ActivityType::CUDA};
  ap::prepareProfiler(cfg, acts);
  ap::enableProfiler(cfg, acts);
  active_ = true;
#else
  std::fprintf(stderr, "PTQ_KERNEL_PROFILE: this build has no kernel profiler (configure with -DPTQ_KERNEL_PROFILE=ON)\n");
#endif
}

KernelProfile::~KernelProfile() {
#ifdef PTQ_KERNEL_PROFILE
  if (!active_) return;
  try {
    auto res = ap::disableProfiler();
    std::map<std::string, KernelTotal> totals;
    for (const auto& e : res->events()) {
      if (e.deviceType() != c10::DeviceType::CUDA) continue;  // kernels, memcpy and memset on the GPU
      KernelTotal& t = totals[e.name()];
      t.calls += 1;
      t.us += duration_us(e);
    }
    write_top(path_, totals);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kernel profile: %s\n", e.what());
  }
#endif
}

}  // namespace ptq
