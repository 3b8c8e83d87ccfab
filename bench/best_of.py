# best_of.py: merge repeated passes of a bench CSV (hnsw_client, hnswlib)
# into one row per ef: the pass with the highest QPS, as measured.  On a
# shared machine the best of several passes is the least disturbed one;
# both sides of a comparison get the same treatment.
# Usage: /usr/bin/python3 bench/best_of.py RAW.csv > MERGED.csv
import sys

best = {}
order = []
header = None
other = []
with open(sys.argv[1]) as f:
    for line in f:
        line = line.rstrip('\n')
        cells = line.split(',')
        if cells[0].isdigit() and len(cells) >= 3:
            ef = int(cells[0])
            if ef not in best:
                order.append(ef)
                best[ef] = cells
            elif float(cells[2]) > float(best[ef][2]):
                best[ef] = cells
        elif cells[0] == 'ef':
            header = line
        elif line and line not in other:
            other.append(line)
for line in other:
    if not line.startswith('#'):
        print(line)
if header:
    print(header)
for ef in order:
    print(','.join(best[ef]))
for line in other:
    if line.startswith('#'):
        print(line)
