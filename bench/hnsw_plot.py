# hnsw_plot.py: recall@10 vs QPS curves from the bench CSVs.
# Usage: /usr/bin/python3 bench/hnsw_plot.py OUT.png LABEL=FILE.csv...
import csv
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 5))
for arg in sys.argv[2:]:
    label, path = arg.split('=', 1)
    xs, ys = [], []
    with open(path) as f:
        for row in csv.reader(f):
            if not row or not row[0].isdigit():
                continue
            xs.append(float(row[1]))
            ys.append(float(row[2]))
    ax.plot(xs, ys, marker='o', label=label)
ax.set_xlabel('recall@10')
ax.set_ylabel('queries per second (one client / one thread)')
ax.set_yscale('log')
ax.set_title('Fashion-MNIST 60k x 784, L2, k=10')
ax.grid(True, which='both', alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(sys.argv[1], dpi=120)
