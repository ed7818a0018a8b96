#!/usr/bin/env python3
"""yarn rope parameters in plain Python (math only, float64), mirroring transformers'
_compute_yarn_parameters (src/transformers/modeling_rope_utils.py) step by step, for
tests/test_deepseek.cpp ("yarn inv_freq and attention factor"). Prints one line per case:
name, attention_factor, then inv_freq[0..dim/2-1]. Run: python3 tests/reference/yarn_reference.py"""
import math


def get_mscale(scale, mscale=1.0):
    if scale <= 1:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def yarn(dim, base, factor, original_max_position_embeddings, beta_fast=None, beta_slow=None,
         mscale=None, mscale_all_dim=None, attention_factor=None, truncate=True):
    if attention_factor is None:
        if mscale and mscale_all_dim:
            attention_factor = float(get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim))
        else:
            attention_factor = get_mscale(factor)
    beta_fast = beta_fast or 32
    beta_slow = beta_slow or 1

    def find_correction_dim(num_rotations):
        return (dim * math.log(original_max_position_embeddings / (num_rotations * 2 * math.pi))) / (2 * math.log(base))

    low = find_correction_dim(beta_fast)
    high = find_correction_dim(beta_slow)
    if truncate:
        low = math.floor(low)
        high = math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    inv = []
    for i in range(dim // 2):
        pos_freq = base ** (2 * i / dim)
        extrapolation = 1.0 / pos_freq
        interpolation = 1.0 / (factor * pos_freq)
        ramp = min(max((i - low) / (high - low), 0.0), 1.0)
        extrapolation_factor = 1 - ramp
        inv.append(interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor)
    return inv, attention_factor


CASES = {
    # deepseek-ai/DeepSeek-V3: qk_rope_head_dim 64, rope_theta 1e4, yarn factor 40 from 4096
    "deepseek-v3": dict(dim=64, base=10000.0, factor=40.0, original_max_position_embeddings=4096,
                        beta_fast=32, beta_slow=1, mscale=1.0, mscale_all_dim=1.0),
    # Qwen-style yarn (factor 4 from 32768, head_dim 128, rope_theta 1e6), no mscale keys
    "qwen-yarn": dict(dim=128, base=1000000.0, factor=4.0, original_max_position_embeddings=32768),
    # mscale without mscale_all_dim, truncate false, a small head
    "small-untruncated": dict(dim=16, base=10000.0, factor=8.0, original_max_position_embeddings=256,
                              beta_fast=16, beta_slow=2, mscale=0.707, truncate=False),
}

if __name__ == "__main__":
    for name, kw in CASES.items():
        inv, af = yarn(**kw)
        print(name, repr(af), " ".join(repr(x) for x in inv))
    # DeepSeek-V3's softmax scale: qk_head_dim^-1/2 · yarn_get_mscale(40, mscale_all_dim 1)^2
    print("deepseek-v3-softmax-scale", repr((192 ** -0.5) * get_mscale(40.0, 1.0) ** 2))
