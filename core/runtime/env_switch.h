#pragma once
// The engine's off switches (PTQ_NO_FUSED_OPS, PTQ_NO_CPU_ATTENTION): set to anything but "" or "0".
#include <cstdlib>
#include <string>

namespace ptq {

inline bool env_switch_set(const char* name) {
  const char* e = std::getenv(name);
  return e && *e && std::string(e) != "0";
}

}  // namespace ptq
