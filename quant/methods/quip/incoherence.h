#pragma once
// QuIP's incoherence processing (Chee et al., 2023; Cornell-RelaxML/QuIP method.py): random
// orthogonal U [m, m] and V [n, n] for a weight W [m, n], W' = U W Vᵀ and H' = V H Vᵀ.
//   kron: method.py rand_ortho_butterfly_noblock (incoh_processing's pre_proj_extra = 1):
//     M = P_out (A ⊗ B) P_in with (P x)[i] = x[p[i]], random permutations p_in, p_out, and Haar
//     orthogonal A [a, a], B [b, b], a·b = n split as butterfly_factors: the prime factors of n in
//     increasing order, a the product of the 1st, 3rd, 5th ..., b of the 2nd, 4th ... (4096 = 64·64,
//     11008 = 688·16). The reference draws A, B from scipy's special_ortho_group (det +1) and
//     the permutations from torch.randperm; here both come from a seeded splitmix64 stream (Haar
//     on O(a): QR of a Gaussian, sign-fixed), so a (kind, n, seed) gives the same matrix on every
//     platform and the seed alone regenerates it.
//   hadamard: QuIP#'s randomized Hadamard (Cornell-RelaxML/quip-sharp, incoherence_preprocess:
//     random sign vectors SU, SV, then the Hadamard transform): M = (hadamard_matrix(n)·diag(s))ᵀ
//     with s random ±1 (W·Vᵀ = W·random_hadamard(n, seed)), as random_hadamard
//     (quant/methods/rotation/hadamard.h) builds it; sizes without a Hadamard construction fall
//     back to a Haar orthogonal matrix there.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

const std::vector<std::string>& incoherence_kinds();  // kron, hadamard
// Throws ptq::Error naming the kind and the allowed ones.
void check_incoherence_kind(const std::string& kind);

// The n×n orthogonal matrix of `kind` drawn from `seed`, float32 on CPU.
at::Tensor incoherence_matrix(const std::string& kind, int64_t n, uint64_t seed);

// butterfly_factors(n) of method.py: (a, b) with a·b = n.
std::pair<int64_t, int64_t> butterfly_factors(int64_t n);

// The seeds of U (which = 0) and V (which = 1) of a layer from its stored seed (splitmix64 steps).
uint64_t incoherence_side_seed(uint64_t layer_seed, int which);
// A layer's seed from the run's seed and the layer's full name (FNV-1a of the name mixed in).
uint64_t incoherence_layer_seed(uint64_t seed, const std::string& layer);

// μ of the paper (Definition 1 for a weight): max|W_ij|·sqrt(m·n)/‖W‖_F, 1 for a constant-magnitude
// matrix, sqrt(m·n) for a single non-zero.
double incoherence_mu(const at::Tensor& W);

}  // namespace ptq
