#pragma once
// CPython's `random` module, the part the reference calibration samplers use: the Mersenne Twister
// MT19937 seeded as `random.seed(int)` and `random.randint(a, b)`. Bit for bit what CPython 3.2+
// returns (Modules/_randommodule.c random_seed / init_by_array / genrand_uint32 /
// _random_Random_getrandbits_impl; Lib/random.py randint -> randrange -> _randbelow_with_getrandbits).
// IST-DASLab/gptq datautils.py draws its calibration windows with it.
#include <array>
#include <cstdint>

namespace ptq {

class PythonRandom {
 public:
  // random.seed(n) for an int n: init_by_array with the 32-bit words of |n|, least significant
  // first (one word for 0).
  explicit PythonRandom(uint64_t seed);
  uint32_t genrand_uint32();
  // random.getrandbits(k), 0 <= k <= 64 (k > 32: 32-bit words filled from the least significant,
  // the last one shifted right by 32 - remaining bits).
  uint64_t getrandbits(int k);
  // _randbelow_with_getrandbits(n): k = n.bit_length(), r = getrandbits(k) until r < n. n >= 1.
  uint64_t randbelow(uint64_t n);
  // randint(a, b) = randrange(a, b + 1) = a + randbelow(b - a + 1). Needs a <= b.
  int64_t randint(int64_t a, int64_t b);

 private:
  void init_genrand(uint32_t s);
  std::array<uint32_t, 624> mt_{};
  int mti_ = 625;
};

}  // namespace ptq
