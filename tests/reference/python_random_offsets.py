#!/usr/bin/env python3
"""Expected window offsets of IST-DASLab/gptq's calibration sampler (datautils.py):
random.seed(seed); per sample i = random.randint(0, ntokens - seqlen - 1).
Run once with CPython 3; the numbers are pasted into tests/test_reference_samplers.cpp
(the test itself does not need Python). Cases: (ntokens, seqlen, nsamples, seed)."""
import random
import sys

CASES = [
    (1000000, 2048, 16, 0),       # the usual seed
    (300, 17, 24, 5),             # small range: many rejections in _randbelow
    (5000, 512, 8, (1 << 40) + 3),  # a seed of two 32-bit words (init_by_array key length 2)
    ((1 << 33) + 7, 2048, 6, 1),  # a range wider than 32 bits (getrandbits with two words)
    (int(sys.argv[1]) if len(sys.argv) > 1 else 112481, 512, 128, 0),  # austen-valid (token count, or the argument)
]

for ntokens, seqlen, nsamples, seed in CASES:
    if ntokens <= seqlen:
        continue
    random.seed(seed)
    offs = [random.randint(0, ntokens - seqlen - 1) for _ in range(nsamples)]
    print(f"// ntokens {ntokens} seqlen {seqlen} nsamples {nsamples} seed {seed}")
    print("{" + ", ".join(str(o) for o in offs) + "}")
