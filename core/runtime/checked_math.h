#pragma once
// Sizes that multiply counts (windows x tokens x width x bytes) without wrapping: the product of
// non-negative factors, or std::nullopt when it does not fit in int64.
#include <cstdint>
#include <initializer_list>
#include <optional>

namespace ptq {

inline std::optional<int64_t> checked_product(std::initializer_list<int64_t> factors) {
  int64_t r = 1;
  for (int64_t f : factors) {
    if (f < 0 || __builtin_mul_overflow(r, f, &r)) return std::nullopt;
  }
  return r;
}

inline std::optional<int64_t> checked_sum(std::initializer_list<int64_t> terms) {
  int64_t r = 0;
  for (int64_t t : terms) {
    if (t < 0 || __builtin_add_overflow(r, t, &r)) return std::nullopt;
  }
  return r;
}

}  // namespace ptq
