#pragma once
// The Hadamard matrices QuaRot hard-codes (get_had12 ... get_had172 of spcl/QuaRot
// fake_quant/hadamard_utils.py, from Sloane's library), reproduced exactly by
// scripts/gen_hadamard_tables.py into hadamard_tables.cpp.
#include <cstdint>
#include <vector>

namespace ptq {

struct HadamardTable {
  int64_t order;    // K
  const char* hex;  // K rows of ceil(K/4) hex digits, MSB first: set bit = +1, clear = -1
};

// Every table, by increasing order.
const std::vector<HadamardTable>& quarot_hadamard_tables();
// The orders in the sequence QuaRot's get_hadK(n) tries `n % K == 0` (the first that divides wins).
const std::vector<int64_t>& quarot_hadamard_search_order();

}  // namespace ptq
