# hnsw_scale_gen.py: a generated cosine set for build scaling (bench/hnsw_scale.sh).
# Usage: /usr/bin/python3 bench/hnsw_scale_gen.py ROWS DIMS NQ OUTDIR
# Writes OUTDIR/train.tsv (id, label 0, [v]) and OUTDIR/test.tsv (NQ held-out
# queries): unit vectors from ROWS / 100 Gaussian clusters (sigma 0.6 around
# N(0,1) centres, then normalised), numpy seed 23, so cosine and L2 rank
# alike (hnswlib runs L2 on the same unit vectors).  Exact top-10 by faiss.
import sys
import numpy as np
import faiss

rows, dims, nq, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(23)
centres = rng.standard_normal((max(rows // 100, 10), dims)).astype(np.float32)


def draw(n):
    c = rng.integers(0, len(centres), n)
    v = centres[c] + 0.6 * rng.standard_normal((n, dims)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def write(path, vecs, base):
    with open(path, 'w') as f:
        for s in range(0, len(vecs), 50000):
            f.write(''.join('%d\t0\t[%s]\n' % (base + s + i + 1, ','.join('%.6g' % x for x in v))
                            for i, v in enumerate(vecs[s:s + 50000])))


train = np.vstack([draw(min(100000, rows - s)) for s in range(0, rows, 100000)])
test = draw(nq)
write(out + '/train.tsv', train, 0)
write(out + '/test.tsv', test, 0)
index = faiss.IndexFlatIP(dims)
index.add(train)
_, nn = index.search(test, 10)
with open(out + '/gt.txt', 'w') as f:
    for r in nn:
        f.write(' '.join(str(j + 1) for j in r) + '\n')
