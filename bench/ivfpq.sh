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
. bench/lib.sh

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

gcc -O2 -o "$work/fmnist" bench/fmnist.c
log "ground truth"
$py bench/ivfpq_bench.py prepare "$work/fmnist" "$work"

psql_ <<'SQL'
CREATE EXTENSION vecx;
CREATE TABLE fm (id int, label int, v vector(784)) WITH (toast_tuple_target = 8160);
SQL
t0=$(now)
"$work/fmnist" train | psql_ -c '\copy fm FROM STDIN'
load_s=$(printf '%.2f' "$(echo "$(now) - $t0" | bc)")
psql_ -c 'VACUUM ANALYZE fm'

log "ivfpq build"
echo 'CREATE INDEX fm_ivfpq ON fm USING ivfpq (v vector_l2_ops) WITH (lists = 256);' >"$work/build.sql"
read -r build_cpu _ build_s < <(vecx_backend_cpu "$work/build.sql" /dev/null)
build_cpu=$(printf '%.2f' "$build_cpu")
build_s=$(printf '%.2f' "$build_s")
size=$(psql_ -tA -c "SELECT pg_relation_size('fm_ivfpq')")
raw=$((60000 * 784 * 4))

log "faiss"
$py bench/ivfpq_bench.py faiss "$work/fmnist" "$work"
faiss_build=$(sed -n 's/^build_s,//p' "$work/faiss.csv")
faiss_build_cpu=$(sed -n 's/^build_cpu_s,//p' "$work/faiss.csv")

: >"$work/results.csv"
# warm the cache and the backend once
(echo "SET ivfpq.probes = 8;"; head -100 "$work/queries.sql") | psql_ -tA >/dev/null
for probes in 1 2 4 6 8 10 12 16 24 32; do
	(echo "SET ivfpq.probes = $probes;"; cat "$work/queries.sql") >"$work/run.sql"
	read -r cpu client dt < <(vecx_backend_cpu "$work/run.sql" "$work/res_$probes.txt")
	rec=$($py bench/ivfpq_bench.py recall "$work" "$work/res_$probes.txt")
	printf 'vecx ivfpq,probes=%d,%s,%.1f,%.1f\n' "$probes" "$rec" \
		"$(echo "1000 / $dt" | bc -l)" "$(echo "1000 / ($cpu + $client)" | bc -l)" >>"$work/results.csv"
done
cp "$work/results.csv" bench/out/ivfpq_results.csv
cp "$work/faiss.csv" bench/out/ivfpq_faiss.csv
$py bench/ivfpq_bench.py plot "$work"
cp "$work/ivfpq.png" bench/out/ivfpq.png

{
	echo "# ivfpq vs Faiss, Fashion-MNIST 60,000 x 784, L2, k=10, 1,000 queries, one client/thread"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# QPS wall: 1,000 / elapsed seconds.  QPS cpu: 1,000 / CPU seconds (vecx: backend + psql client;"
	echo "#   faiss: process), robust to other load on the machine."
	echo "# vecx: COPY ${load_s}s; CREATE INDEX (lists=256, default pq_m and pq_bits) ${build_s}s wall," \
		"${build_cpu}s backend CPU; index $size bytes = $(echo "scale=3; $size / $raw" | bc)x raw float32 ($raw bytes)"
	echo "# faiss IVF256,PQ392x4fs,RFlat: train+add ${faiss_build}s wall, ${faiss_build_cpu}s CPU;" \
		"build ratio vecx/faiss wall $(echo "scale=2; $build_s / $faiss_build" | bc)," \
		"CPU $(echo "scale=2; $build_cpu / $faiss_build_cpu" | bc)"
	printf '%-12s %-26s %9s %9s %9s\n' system setting recall@10 'QPS wall' 'QPS cpu'
	awk -F, '{printf "%-12s %-26s %9s %9s %9s\n", $1, $2, $3, $4, $5}' "$work/results.csv"
	grep -v '_s,' "$work/faiss.csv" | awk -F, '{printf "%-12s %-26s %9s %9s %9s\n", $1, $2, $3, $4, $5}'
} | tee "$out"
