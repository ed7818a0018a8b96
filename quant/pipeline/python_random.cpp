#include "quant/pipeline/python_random.h"

#include <string>
#include <vector>

#include "core/runtime/errors.h"

namespace ptq {

namespace {
constexpr int N = 624, M = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfU, kUpperMask = 0x80000000U, kLowerMask = 0x7fffffffU;
}  // namespace

// init_genrand of _randommodule.c.
void PythonRandom::init_genrand(uint32_t s) {
  mt_[0] = s;
  for (int i = 1; i < N; ++i) mt_[size_t(i)] = 1812433253U * (mt_[size_t(i - 1)] ^ (mt_[size_t(i - 1)] >> 30)) + uint32_t(i);
  mti_ = N;
}

// random_seed (int argument) + init_by_array of _randommodule.c.
PythonRandom::PythonRandom(uint64_t seed) {
  std::vector<uint32_t> key;
  for (uint64_t v = seed; v != 0; v >>= 32) key.push_back(uint32_t(v & 0xffffffffU));
  if (key.empty()) key.push_back(0);  // keyused = 1 for 0
  const size_t len = key.size();
  init_genrand(19650218U);
  size_t i = 1, j = 0;
  for (size_t k = (size_t(N) > len ? size_t(N) : len); k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] + uint32_t(j);  // non linear
    ++i;
    ++j;
    if (i >= size_t(N)) {
      mt_[0] = mt_[N - 1];
      i = 1;
    }
    if (j >= len) j = 0;
  }
  for (size_t k = N - 1; k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) - uint32_t(i);  // non linear
    ++i;
    if (i >= size_t(N)) {
      mt_[0] = mt_[N - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000U;  // MSB is 1; assuring non-zero initial array
}

uint32_t PythonRandom::genrand_uint32() {
  static const uint32_t mag01[2] = {0x0U, kMatrixA};
  uint32_t y;
  if (mti_ >= N) {  // generate N words at one time
    int kk = 0;
    for (; kk < N - M; ++kk) {
      y = (mt_[size_t(kk)] & kUpperMask) | (mt_[size_t(kk + 1)] & kLowerMask);
      mt_[size_t(kk)] = mt_[size_t(kk + M)] ^ (y >> 1) ^ mag01[y & 0x1U];
    }
    for (; kk < N - 1; ++kk) {
      y = (mt_[size_t(kk)] & kUpperMask) | (mt_[size_t(kk + 1)] & kLowerMask);
      mt_[size_t(kk)] = mt_[size_t(kk + (M - N))] ^ (y >> 1) ^ mag01[y & 0x1U];
    }
    y = (mt_[N - 1] & kUpperMask) | (mt_[0] & kLowerMask);
    mt_[N - 1] = mt_[M - 1] ^ (y >> 1) ^ mag01[y & 0x1U];
    mti_ = 0;
  }
  y = mt_[size_t(mti_++)];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

uint64_t PythonRandom::getrandbits(int k) {
  if (k < 0 || k > 64) throw Error("getrandbits: k must be in 0..64, got " + std::to_string(k));
  if (k == 0) return 0;
  if (k <= 32) return genrand_uint32() >> (32 - k);
  // Words from the least significant; the last (most significant) one keeps its top bits.
  uint64_t lo = genrand_uint32();
  uint64_t hi = genrand_uint32() >> (64 - k);
  return lo | (hi << 32);
}

uint64_t PythonRandom::randbelow(uint64_t n) {
  if (n == 0) throw Error("randbelow: n must be positive");
  int k = 0;
  for (uint64_t v = n; v; v >>= 1) ++k;  // n.bit_length()
  uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

int64_t PythonRandom::randint(int64_t a, int64_t b) {
  if (a > b) throw Error("randint: empty range [" + std::to_string(a) + ", " + std::to_string(b) + "]");
  return a + int64_t(randbelow(uint64_t(b - a) + 1));
}

}  // namespace ptq
