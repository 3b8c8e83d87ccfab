#!/usr/bin/env bash
# ivfpq.sh: the ivfpq index on Fashion-MNIST (60,000 x 784 base, 1,000 test
# queries, L2, k=10, exact ground truth) against Faiss in the same run.
#
# vecx: load (COPY) time, CREATE INDEX ... USING ivfpq WITH (lists = 256)
# time, index size, and for a range of ivfpq.probes the recall@10 and the
# single-client SQL QPS (psql sending the 1,000 queries with their
# 784-dimension literals one after another).  Vectors are kept in the heap
# page (toast_tuple_target = 8160) so the executor's exact re-check does not
# read TOAST.
# Faiss (Debian python3-faiss): index_factory "IVF256,PQ392x4fs,RFlat",
# train+add time, single-threaded search for a range of nprobe x k_factor.
#
#   bench/ivfpq.sh            results in bench/out/ivfpq.txt, ivfpq.png
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

vecx_need_pkgs $VECX_BASE_PKGS python3-faiss python3-matplotlib python3-numpy
vecx_build_install
mkdir -p bench/out
out=bench/out/ivfpq.txt
py=/usr/bin/python3

work=$(mktemp -d /tmp/vecx-bench.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir"
bindir=$("$PG_CONFIG" --bindir)
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }
now() { date +%s.%N; }

gcc -O2 -o "$work/fmnist" bench/fmnist.c
log "ground truth"
$py bench/ivfpq_bench.py prepare "$work/fmnist" "$work"

psql_ <<'SQL'
CREATE EXTENSION vecx;
CREATE TABLE fm (id int, label int, v vector(784)) WITH (toast_tuple_target = 8160);
SQL
t0=$(now)
"$work/fmnist" train | psql_ -c '\copy fm FROM STDIN'
load_s=$(echo "$(now) - $t0" | bc)
psql_ -c 'VACUUM ANALYZE fm'

log "ivfpq build"
t0=$(now)
psql_ -c 'CREATE INDEX fm_ivfpq ON fm USING ivfpq (v vector_l2_ops) WITH (lists = 256)'
build_s=$(echo "$(now) - $t0" | bc)
size=$(psql_ -tA -c "SELECT pg_relation_size('fm_ivfpq')")
raw=$((60000 * 784 * 4))

log "faiss"
$py bench/ivfpq_bench.py faiss "$work/fmnist" "$work"
faiss_build=$(sed -n 's/^build_s,//p' "$work/faiss.csv")

: >"$work/results.csv"
# warm the cache and the backend once
(echo "SET ivfpq.probes = 8;"; head -100 "$work/queries.sql") | psql_ -tA >/dev/null
for probes in 1 2 4 6 8 10 12 16 24 32; do
	t0=$(now)
	(echo "SET ivfpq.probes = $probes;"; cat "$work/queries.sql") | psql_ -tA >"$work/res_$probes.txt"
	dt=$(echo "$(now) - $t0" | bc)
	rec=$($py bench/ivfpq_bench.py recall "$work" "$work/res_$probes.txt")
	qps=$(echo "1000 / $dt" | bc -l)
	printf 'vecx ivfpq,probes=%d,%s,%.1f\n' "$probes" "$rec" "$qps" >>"$work/results.csv"
done
cp "$work/results.csv" bench/out/ivfpq_results.csv
cp "$work/faiss.csv" bench/out/ivfpq_faiss.csv
$py bench/ivfpq_bench.py plot "$work"
cp "$work/ivfpq.png" bench/out/ivfpq.png

{
	echo "# ivfpq vs Faiss, Fashion-MNIST 60,000 x 784, L2, k=10, 1,000 queries, one client/thread"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# vecx: COPY ${load_s}s; CREATE INDEX (lists=256, default pq_m and pq_bits) ${build_s}s;" \
		"index $size bytes = $(echo "scale=3; $size / $raw" | bc)x raw float32 ($raw bytes)"
	echo "# faiss IVF256,PQ392x4fs,RFlat: train+add ${faiss_build}s; build ratio vecx/faiss" \
		"$(echo "scale=2; $build_s / $faiss_build" | bc)"
	printf '%-12s %-26s %8s %9s\n' system setting recall@10 QPS
	sed 's/,/ /g' "$work/results.csv" | awk '{printf "%-12s %-26s %8s %9s\n", $1" "$2, $3, $4, $5}'
	grep -v '^build_s' "$work/faiss.csv" | awk -F, '{printf "%-12s %-26s %8s %9s\n", $1, $2","$3, $4, $5}'
} | tee "$out"
