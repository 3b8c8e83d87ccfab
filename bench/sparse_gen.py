# sparse_gen.py: random sparse vectors for bench/sparse.sh, as COPY text
# lines "id<TAB>{i:x,...}/dims": 50-200 non-zero elements each, indices
# drawn from a Zipf distribution over the dimensions (a few very common
# "terms", a long tail, as in bag-of-words or SPLADE-like vectors), values
# uniform in (0, 1].  Deterministic for a seed.
# Usage: /usr/bin/python3 bench/sparse_gen.py N DIMS SEED [ZIPF_S]
import bisect
import itertools
import random
import sys

n, dims, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = float(sys.argv[4]) if len(sys.argv) > 4 else 1.1
r = random.Random(seed)
# index rank k (0-based) has weight 1 / (k + 1)^s; ranks go to a fixed
# random permutation of the dimensions, so common terms are spread out
cdf = list(itertools.accumulate(1.0 / (k + 1) ** s for k in range(dims)))
total = cdf[-1]
perm = list(range(dims))
random.Random(12345).shuffle(perm)
out = sys.stdout
for i in range(1, n + 1):
    want = r.randint(50, 200)
    idx = set()
    while len(idx) < want:
        idx.add(perm[bisect.bisect_left(cdf, r.random() * total)])
    out.write("%d\t{%s}/%d\n" % (i, ",".join("%d:%.4g" % (k + 1, 1.0 - r.random())
                                              for k in sorted(idx)), dims))
