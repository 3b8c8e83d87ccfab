#!/usr/bin/env bash
# exact.sh: exact nearest-neighbour search on Fashion-MNIST through SQL.
#
# Loads the 60,000 training images, then measures single-client queries per
# second of "ORDER BY embedding <-> q LIMIT 10" over the whole table with
# pgbench (prepared statements, one client, a random test image per query),
# for the storage and parallelism choices a user has:
#   inline    toast_tuple_target = 8160: vectors stay in the heap page
#   external  the type's default storage: 3 KB vectors go to TOAST
# each with and without parallel workers, and with vecx.simd auto / scalar.
#
#   bench/exact.sh [seconds-per-run]      (default 15)
# Results: bench/out/exact.txt
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

secs=${1:-15}
vecx_need_pkgs $VECX_BASE_PKGS
vecx_build_install
mkdir -p bench/out
out=bench/out/exact.txt

work=$(mktemp -d /tmp/vecx-bench.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir"
bindir=$("$PG_CONFIG" --bindir)
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }

gcc -O2 -o "$work/fmnist" bench/fmnist.c
psql_ <<'SQL'
CREATE EXTENSION vecx;
CREATE TABLE inline_items (id int PRIMARY KEY, label int, embedding vector(784)) WITH (toast_tuple_target = 8160);
CREATE TABLE external_items (id int PRIMARY KEY, label int, embedding vector(784));
CREATE TABLE queries (id int PRIMARY KEY, label int, embedding vector(784)) WITH (toast_tuple_target = 8160);
SQL
start=$(date +%s.%N)
"$work/fmnist" train | psql_ -c '\copy inline_items FROM STDIN'
load_s=$(echo "$(date +%s.%N) - $start" | bc)
"$work/fmnist" train | psql_ -c '\copy external_items FROM STDIN'
"$work/fmnist" test 1000 | psql_ -c '\copy queries FROM STDIN'
psql_ -c 'VACUUM ANALYZE'

{
	echo "# exact search, Fashion-MNIST 60,000 x 784, L2, k=10, one client, ${secs}s per run"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores; load of 60,000 rows (COPY, inline): ${load_s}s"
	echo "# table size: inline $(psql_ -tA -c "SELECT pg_size_pretty(pg_total_relation_size('inline_items'))"), external $(psql_ -tA -c "SELECT pg_size_pretty(pg_total_relation_size('external_items'))")"
	printf '%-10s %-8s %-7s %10s %10s\n' storage workers simd QPS ms/query
} | tee "$out"

for table in inline external; do
	for workers in 0 2; do
		for simd in auto scalar; do
			cat >"$work/q.sql" <<SQL
\\set qid random(1, 1000)
SELECT id FROM ${table}_items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = :qid) LIMIT 10;
SQL
			tps=$(PGOPTIONS="-c max_parallel_workers_per_gather=$workers -c vecx.simd=$simd" \
				"$bindir/pgbench" -n -U postgres -c 1 -T "$secs" -M prepared -f "$work/q.sql" postgres 2>/dev/null |
				sed -n 's/^tps = \([0-9.]*\).*/\1/p')
			printf '%-10s %-8s %-7s %10.1f %10.2f\n' "$table" "$workers" "$simd" "$tps" "$(echo "1000 / $tps" | bc -l)" | tee -a "$out"
		done
	done
done
