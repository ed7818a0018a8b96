#pragma once
// Hadamard rotations for QuaRot / QuIP#-style incoherence processing.
//
// Convention: for n = K·2^m (K in {1, 12, 20, 28}),
//   hadamard_matrix(n) = (B_K ⊗ S_{2^m}) / sqrt(n)
// with S the Sylvester matrix (S[i][j] = (-1)^popcount(i&j), symmetric) and B_K a base
// Hadamard matrix built by Paley's constructions (12: Paley I, q=11; 20: Paley I, q=19;
// 28: Paley II, q=13). fast_hadamard_transform(x) = x · hadamard_matrix(n) (row vectors),
// the same butterfly-then-base-matmul layout as QuaRot's matmul_hadU; for powers of two it
// equals QuaRot / fast-hadamard-transform exactly (S is the standard Walsh–Hadamard order).
#include <ATen/ATen.h>

#include <cstdint>

namespace ptq {

// n = 2^k (k >= 0), or 12·2^k, 20·2^k, 28·2^k.
bool hadamard_supported(int64_t n);

// Orthonormal Hadamard matrix [n, n] of dtype dt on CPU; throws ptq::Error if unsupported.
at::Tensor hadamard_matrix(int64_t n, at::ScalarType dt = at::kFloat);

// hadamard_matrix(n) · diag(s), s a seeded random ±1 vector: orthonormal, float32, CPU.
// If n is unsupported, falls back to a Haar-random orthogonal matrix: Q of the QR of a
// seeded standard-Gaussian n×n matrix with columns sign-fixed by sign(diag R).
// Randomness comes from a self-contained splitmix64 stream (Box–Muller for Gaussians), so
// the result for a given (n, seed) is identical on every LibTorch version and platform and
// no global torch RNG state is touched.
at::Tensor random_hadamard(int64_t n, uint64_t seed);

// x[..., n] · H_n (orthonormal). n = 2^k: O(n log n) butterfly with tensor ops; n = K·2^k:
// butterfly over the 2^k factor then a K×K matmul; other n throw (as hadamard_matrix).
// Computes in float32 for half/bfloat16 inputs (double stays double); result has x's
// dtype and device.
at::Tensor fast_hadamard_transform(const at::Tensor& x);

}  // namespace ptq
