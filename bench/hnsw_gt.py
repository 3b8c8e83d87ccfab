# hnsw_gt.py: exact L2 top-10 for the bench queries (faiss, flat index).
# Usage: /usr/bin/python3 bench/hnsw_gt.py TRAIN.tsv QUERIES.tsv OUT.txt
import sys

import faiss
import numpy as np


def load(path):
    ids, rows = [], []
    with open(path) as f:
        for line in f:
            a, _, rest = line.split('\t', 2)
            ids.append(int(a))
            rows.append(np.array(rest.strip()[1:-1].split(','), dtype=np.float32))
    return np.array(ids), np.vstack(rows)


tid, train = load(sys.argv[1])
_, test = load(sys.argv[2])
index = faiss.IndexFlatL2(train.shape[1])
index.add(train)
_, nn = index.search(test, 10)
with open(sys.argv[3], 'w') as f:
    for row in nn:
        f.write(' '.join(str(tid[j]) for j in row) + '\n')
