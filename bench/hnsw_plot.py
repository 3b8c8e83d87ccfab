# hnsw_plot.py: recall@10 vs QPS curves from the bench CSVs.
# Usage: /usr/bin/python3 bench/hnsw_plot.py OUT.png LABEL=FILE.csv...
# Left: wall-clock QPS of one client.  Right: 1000 / CPU ms per query of the
# server backend (or the hnswlib process), which other load on a shared
# machine disturbs less.
import csv
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
for arg in sys.argv[2:]:
    label, path = arg.split('=', 1)
    rec, qps, cpu = [], [], []
    with open(path) as f:
        for row in csv.reader(f):
            if not row or not row[0].isdigit():
                continue
            rec.append(float(row[1]))
            qps.append(float(row[2]))
            c = float(row[4]) if len(row) > 4 else 0.0
            cpu.append(1000.0 / c if c > 0 else float('nan'))
    ax1.plot(rec, qps, marker='o', label=label)
    ax2.plot(rec, cpu, marker='o', label=label)
for ax, t in ((ax1, 'wall-clock QPS, one client / thread'),
              (ax2, 'queries per CPU-second (server backend / process)')):
    ax.set_xlabel('recall@10')
    ax.set_ylabel(t)
    ax.set_yscale('log')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend()
fig.suptitle('Fashion-MNIST 60k x 784, L2, k=10, m=16, ef_construction=64')
fig.tight_layout()
fig.savefig(sys.argv[1], dpi=110)
