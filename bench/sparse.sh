#!/usr/bin/env bash
# sparse.sh: hnsw on sparse vectors, inner product, through SQL.
#
# N sparsevec(30000) rows with 50-200 non-zero elements each, indices
# Zipf-distributed (bench/sparse_gen.py), and 200 queries drawn the same
# way (another seed).  Measures
#   build   CREATE INDEX ... USING hnsw (v sparsevec_ip_ops), defaults
#           (m 16, ef_construction 64), serial and with 2 workers
#   size    of the index
#   recall@10 against the exact answer (a sequential scan), for
#           hnsw.ef_search 10 .. 400
#   QPS     the 200 queries one after another in one backend
#           (LATERAL ... ORDER BY v <#> q.v LIMIT 10), best of 3 passes
#
#   bench/sparse.sh [N]           (default 100000)
# Results: bench/out/sparse.txt
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

n=${1:-100000}
dims=30000
nq=200
vecx_need_pkgs $VECX_BASE_PKGS python3
vecx_build_install
mkdir -p bench/out
out=bench/out/sparse.txt

work=$(mktemp -d /tmp/vecx-bench.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir"
bindir=$("$PG_CONFIG" --bindir)
export PGOPTIONS="-c client_min_messages=warning"
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }
now() { date +%s.%N; }

psql_ <<SQL
CREATE EXTENSION vecx;
CREATE TABLE items (id int PRIMARY KEY, v sparsevec($dims));
CREATE TABLE queries (id int PRIMARY KEY, v sparsevec($dims));
SQL
/usr/bin/python3 bench/sparse_gen.py "$n" "$dims" 1 | psql_ -c '\copy items FROM STDIN'
/usr/bin/python3 bench/sparse_gen.py "$nq" "$dims" 2 | psql_ -c '\copy queries FROM STDIN'
psql_ -c "VACUUM ANALYZE"

{
	echo "# hnsw sparsevec_ip_ops: $n x sparsevec($dims), 50-200 non-zeros (Zipf indices), $nq queries, k=10"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"

# exact answers (no index yet)
s=$(now)
psql_ <<'SQL'
SET max_parallel_workers_per_gather = 0;
CREATE TABLE gt AS SELECT q.id AS qid, s.id AS tid FROM queries q,
	LATERAL (SELECT id FROM items i ORDER BY i.v <#> q.v LIMIT 10) s;
SQL
e=$(now)
printf '# exact (sequential scan): %.1f QPS\n' "$(echo "$nq / ($e - $s)" | bc -l)" | tee -a "$out"

build() {
	local workers=$1 s e
	psql_ -c "DROP INDEX IF EXISTS items_v"
	s=$(now)
	psql_ -c "SET maintenance_work_mem = '2GB'; SET max_parallel_maintenance_workers = $workers;
		CREATE INDEX items_v ON items USING hnsw (v sparsevec_ip_ops)"
	e=$(now)
	printf '# build, %d workers: %.1f s, index %s\n' "$workers" "$(echo "$e - $s" | bc -l)" \
		"$(psql_ -tA -c "SELECT pg_size_pretty(pg_relation_size('items_v'))")" | tee -a "$out"
}
build 0
build 2
psql_ -c "ANALYZE items"

# recall and QPS per ef_search
printf '%-10s %8s %8s\n' ef_search recall QPS | tee -a "$out"
for ef in 10 20 40 80 160 400; do
	best=0
	for pass in 1 2 3; do
		s=$(now)
		psql_ <<SQL
SET enable_seqscan = off;
SET hnsw.ef_search = $ef;
DROP TABLE IF EXISTS res;
CREATE TABLE res AS SELECT q.id AS qid, s.id AS tid FROM queries q,
	LATERAL (SELECT id FROM items i ORDER BY i.v <#> q.v LIMIT 10) s;
SQL
		e=$(now)
		qps=$(echo "$nq / ($e - $s)" | bc -l)
		best=$(echo "if ($qps > $best) $qps else $best" | bc -l)
	done
	recall=$(psql_ -tA -c "SELECT round((SELECT count(*) FROM gt JOIN res USING (qid, tid))::numeric /
		(SELECT count(*) FROM gt), 4)")
	printf '%-10s %8s %8.1f\n' "$ef" "$recall" "$best" | tee -a "$out"
done
plan=$(psql_ -tA -c "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <#> (SELECT v FROM queries LIMIT 1) LIMIT 10" | grep -c 'Index Scan using items_v' || true)
echo "# plans use the index: $plan" | tee -a "$out"
