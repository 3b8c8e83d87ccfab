#!/usr/bin/python3
"""ivfpq_bench.py: helpers for bench/ivfpq.sh (Fashion-MNIST, L2, k=10).

  ivfpq_bench.py prepare FMNIST OUTDIR      ground truth + query files
  ivfpq_bench.py recall OUTDIR RESULTFILE   recall@10 of one SQL run
  ivfpq_bench.py faiss FMNIST OUTDIR        Faiss IVF256,PQ392x4fs,RFlat runs
  ivfpq_bench.py plot OUTDIR                table + PNG from OUTDIR/results.csv
"""
import os
import subprocess
import sys
import time

import numpy as np

K = 10
NQ = 1000


def load(fmnist, args):
    out = subprocess.run([fmnist] + args, capture_output=True, text=True, check=True).stdout
    ids, vs = [], []
    for line in out.splitlines():
        i, _, v = line.split('\t')
        ids.append(int(i))
        vs.append(np.array(v[1:-1].split(','), dtype=np.float32))
    return np.array(ids), np.stack(vs), out


def prepare(fmnist, outdir):
    ids, X, _ = load(fmnist, ['train'])
    qids, Q, qtxt = load(fmnist, ['test', str(NQ)])
    gt = np.empty((len(Q), K), dtype=np.int64)
    xx = (X.astype(np.float64) ** 2).sum(1)
    for s in range(0, len(Q), 100):
        q = Q[s:s + 100].astype(np.float64)
        d = xx[None, :] - 2 * q @ X.T.astype(np.float64)
        gt[s:s + 100] = ids[np.argsort(d, axis=1, kind='stable')[:, :K]]
    np.save(os.path.join(outdir, 'gt.npy'), gt)
    with open(os.path.join(outdir, 'queries.sql'), 'w') as f:
        for line in qtxt.splitlines():
            v = line.split('\t')[2]
            f.write("SELECT string_agg(id::text, ',') FROM (SELECT id FROM fm ORDER BY v <-> '%s' LIMIT %d) s;\n" % (v, K))


def recall_of(outdir, result):
    gt = np.load(os.path.join(outdir, 'gt.npy'))
    lines = [l for l in open(result).read().splitlines() if l.strip()]
    if len(lines) != len(gt):
        raise SystemExit('%s: %d result lines, expected %d' % (result, len(lines), len(gt)))
    hits = 0
    for i, l in enumerate(lines):
        hits += len(set(int(x) for x in l.split(',')) & set(gt[i].tolist()))
    return hits / (K * len(gt))


def faiss_runs(fmnist, outdir):
    import faiss
    faiss.omp_set_num_threads(1)
    _, X, _ = load(fmnist, ['train'])
    _, Q, _ = load(fmnist, ['test', str(NQ)])
    gt_ids = np.load(os.path.join(outdir, 'gt.npy')) - 1   # fmnist ids are 1-based row numbers
    index = faiss.index_factory(X.shape[1], 'IVF256,PQ392x4fs,RFlat')
    t0 = time.time()
    c0 = time.process_time()
    index.train(X)
    index.add(X)
    build = time.time() - t0
    build_cpu = time.process_time() - c0
    rows = []
    refine = faiss.downcast_index(index)
    base = faiss.downcast_index(refine.base_index)
    for nprobe in (1, 2, 4, 8, 12, 16, 24, 32):
        for kf in (2, 4, 8):
            base.nprobe = nprobe
            refine.k_factor = kf
            t0 = time.time()
            c0 = time.process_time()
            _, I = index.search(Q, K)
            dt = time.time() - t0
            cpu = time.process_time() - c0
            rec = np.mean([len(set(I[i]) & set(gt_ids[i])) / K for i in range(len(Q))])
            rows.append(('faiss', 'nprobe=%d;k_factor=%d' % (nprobe, kf), rec, len(Q) / dt, len(Q) / cpu))
    with open(os.path.join(outdir, 'faiss.csv'), 'w') as f:
        f.write('build_s,%.2f\n' % build)
        f.write('build_cpu_s,%.2f\n' % build_cpu)
        for r in rows:
            f.write('%s,%s,%.4f,%.1f,%.1f\n' % r)


def plot(outdir):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    series = {}
    for name in ('results.csv', 'faiss.csv'):
        path = os.path.join(outdir, name)
        if not os.path.exists(path):
            continue
        for line in open(path):
            p = line.strip().split(',')
            if len(p) < 5 or p[0].endswith('_s'):
                continue
            # recall, CPU-based QPS, setting
            series.setdefault(p[0], []).append((float(p[2]), float(p[4]), p[1]))
    plt.figure(figsize=(7, 5))
    for name, pts in series.items():
        if name == 'faiss':
            # best QPS per recall: the Pareto front over nprobe x k_factor
            pts = sorted(pts)
            front, best = [], 0
            for r, q, lab in sorted(pts, key=lambda t: -t[0]):
                if q > best:
                    front.append((r, q, lab))
                    best = q
            pts = sorted(front)
        pts = sorted(pts)
        plt.plot([p[0] for p in pts], [p[1] for p in pts], marker='o', label=name)
    plt.xlabel('recall@10')
    plt.ylabel('queries per CPU second (1 client)')
    plt.yscale('log')
    plt.grid(True, which='both', alpha=0.3)
    plt.title('Fashion-MNIST 60k x 784, L2, k=10')
    plt.legend()
    plt.savefig(os.path.join(outdir, 'ivfpq.png'), dpi=100, bbox_inches='tight')


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'prepare':
        prepare(sys.argv[2], sys.argv[3])
    elif cmd == 'recall':
        print('%.4f' % recall_of(sys.argv[2], sys.argv[3]))
    elif cmd == 'faiss':
        faiss_runs(sys.argv[2], sys.argv[3])
    elif cmd == 'plot':
        plot(sys.argv[2])
    else:
        raise SystemExit(__doc__)
