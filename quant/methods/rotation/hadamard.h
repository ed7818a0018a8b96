#pragma once
// Hadamard rotations for QuaRot / QuIP#-style incoherence processing.
//
// Sizes: n = K·2^m with a base Hadamard matrix B_K of order K. The base is chosen as QuaRot's
// get_hadK(n) chooses it (fake_quant/hadamard_utils.py: the first of K = 172, 156, 140, 108, 60,
// 52, 36, 28, 40, 20, 12 that divides n, with n/K a power of two; K = 1 for a power of two) and
// B_K is QuaRot's hard-coded matrix for that K (hadamard_tables.cpp, generated from QuaRot's text).
// Where QuaRot has no answer, the smallest K = o·2^j (o the odd part of n, K a multiple of 4)
// with a Paley construction is used: Paley I for K = q+1, q ≡ 3 (mod 4) prime; Paley II for
// K = 2(q+1), q ≡ 1 (mod 4) prime. So 11008 = 172·64 (LLaMA-2-7B MLP) and 13824 = 108·128
// (LLaMA-2-13B) use QuaRot's matrices, and 18944 = 148·128 (Qwen2-7B) uses Paley II with q = 73.
//
// Convention (QuaRot matmul_hadU, transpose=False, exactly):
//   fast_hadamard_transform(x) = x · hadamard_matrix(n),  hadamard_matrix(n) = (B_Kᵀ ⊗ S_{2^m}) / √n
// with S the Sylvester matrix (S[i][j] = (-1)^popcount(i&j)): a butterfly over the 2^m factor,
// then B_K · (the [K, 2^m] view of each row).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace ptq {

// The base order K used for size n (1 for a power of two), or 0 when no construction fits.
int64_t hadamard_base_order(int64_t n);
bool hadamard_supported(int64_t n);  // hadamard_base_order(n) != 0

// Where the base matrix of order K comes from: "sylvester" (K = 1), "quarot get_had<K>",
// "paley I q=<q>" or "paley II q=<q>"; throws ptq::Error when there is none.
std::string hadamard_base_source(int64_t K);

// The ±1 base matrix B_K [K, K] (float64, CPU) with B·Bᵀ = K·I: QuaRot's get_had<K>() for its
// orders, else the Paley matrix. Throws ptq::Error when no construction fits.
at::Tensor hadamard_base_matrix(int64_t K);

// Orthonormal Hadamard matrix [n, n] of dtype dt on CPU; throws ptq::Error if unsupported.
at::Tensor hadamard_matrix(int64_t n, at::ScalarType dt = at::kFloat);

// hadamard_matrix(n) · diag(s), s a seeded random ±1 vector: orthonormal, float32, CPU.
// If n is unsupported, falls back to a Haar-random orthogonal matrix: Q of the QR of a
// seeded standard-Gaussian n×n matrix with columns sign-fixed by sign(diag R).
// Randomness comes from a self-contained splitmix64 stream (Box–Muller for Gaussians), so
// the result for a given (n, seed) is identical on every LibTorch version and platform and
// no global torch RNG state is touched.
at::Tensor random_hadamard(int64_t n, uint64_t seed);

// The fallback above on its own: a Haar-random orthogonal matrix [n, n], float64 CPU, from the
// splitmix64 stream of `seed` (QR of a Box–Muller Gaussian, columns sign-fixed by sign(diag R)).
at::Tensor haar_orthogonal64(int64_t n, uint64_t seed);

// x[..., n] · hadamard_matrix(n). Butterfly over the 2^m factor with tensor ops, then a K×K
// matmul; unsupported n throw (as hadamard_matrix). Computes in float32 for half/bfloat16 inputs
// (double stays double); the result has x's dtype and device.
at::Tensor fast_hadamard_transform(const at::Tensor& x);

}  // namespace ptq
