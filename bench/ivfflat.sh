#!/usr/bin/env bash
# ivfflat.sh: the ivfflat index on Fashion-MNIST (60,000 x 784 base, 1,000
# test queries, L2, k=10, exact ground truth).
#
# The table is as CREATE TABLE makes it (default storage: the vectors go to
# TOAST), the queries are text literals sent by psql one after another, the
# index is CREATE INDEX ... USING ivfflat (v vector_l2_ops) WITH (lists =
# 256) with default settings (maintenance_work_mem of the test cluster).
# Reported: load (COPY) time, build time (wall and backend CPU), index size,
# and for a range of ivfflat.probes the recall@10 and the single-client QPS
# (wall, and from CPU time: backend + psql, robust to other load).
#
# The reference extension (pgvector) is not installable on this machine, so
# there is no side-by-side run: compare with its published figures or run
# it yourself on the same data.
#
#   bench/ivfflat.sh            results in bench/out/ivfflat.txt
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh

vecx_need_pkgs $VECX_BASE_PKGS python3-numpy
vecx_build_install
mkdir -p bench/out
out=bench/out/ivfflat.txt
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
CREATE TABLE fm (id int, label int, v vector(784));
SQL
t0=$(now)
"$work/fmnist" train | psql_ -c '\copy fm FROM STDIN'
load_s=$(printf '%.2f' "$(echo "$(now) - $t0" | bc)")
psql_ -c 'VACUUM ANALYZE fm'

log "ivfflat build"
echo 'CREATE INDEX fm_ivfflat ON fm USING ivfflat (v vector_l2_ops) WITH (lists = 256);' >"$work/build.sql"
read -r build_cpu _ build_s < <(vecx_backend_cpu "$work/build.sql" /dev/null)
build_cpu=$(printf '%.2f' "$build_cpu")
build_s=$(printf '%.2f' "$build_s")
size=$(psql_ -tA -c "SELECT pg_relation_size('fm_ivfflat')")
raw=$((60000 * 784 * 4))

: >"$work/results.csv"
# warm the cache and the backend once
(echo "SET ivfflat.probes = 8;"; head -100 "$work/queries.sql") | psql_ -tA >/dev/null
for probes in 1 2 4 6 8 10 12 16 24 32; do
	(echo "SET ivfflat.probes = $probes;"; cat "$work/queries.sql") >"$work/run.sql"
	read -r cpu client dt < <(vecx_backend_cpu "$work/run.sql" "$work/res_$probes.txt")
	rec=$($py bench/ivfpq_bench.py recall "$work" "$work/res_$probes.txt")
	printf 'vecx ivfflat,probes=%d,%s,%.1f,%.1f,%.3f\n' "$probes" "$rec" \
		"$(echo "1000 / $dt" | bc -l)" "$(echo "1000 / ($cpu + $client)" | bc -l)" \
		"$(echo "$cpu" | bc -l)" >>"$work/results.csv"
done
cp "$work/results.csv" bench/out/ivfflat_results.csv

{
	echo "# ivfflat, Fashion-MNIST 60,000 x 784, L2, k=10, 1,000 text-literal queries, one client"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# QPS wall: 1,000 / elapsed seconds.  QPS cpu: 1,000 / CPU seconds (backend + psql client)."
	echo "# COPY ${load_s}s; CREATE INDEX (lists=256) ${build_s}s wall, ${build_cpu}s backend CPU;" \
		"index $size bytes = $(echo "scale=3; $size / $raw" | bc)x raw float32 ($raw bytes)"
	echo "# The reference extension is not installable here: no side-by-side figures."
	printf '%-14s %-12s %9s %9s %9s %12s\n' system setting recall@10 'QPS wall' 'QPS cpu' 'backend s'
	awk -F, '{printf "%-14s %-12s %9s %9s %9s %12s\n", $1, $2, $3, $4, $5, $6}' "$work/results.csv"
} | tee "$out"
