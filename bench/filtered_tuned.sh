#!/usr/bin/env bash
# filtered_tuned.sh: filtered search on Fashion-MNIST in the tuned setup
# (vectors in the heap page, prepared generic plans, a filter correlated
# with the vectors).  Kept as a secondary figure: bench/filtered.sh is the
# honest one (default storage, literal queries, independent labels).
#
# 60,000 training images with their real label (10 classes) and a bucket
# column (10 values); 1,000 test images as queries.  At default settings
# it measures, for
#   10%   WHERE label = c
#   1%    WHERE label = c AND bucket = b
# and for the unfiltered query on the same index:
#   rows  total rows returned for the 1,000 queries (10,000 = always 10)
#   recall@10 against the exact filtered answer
#   QPS   one pgbench client, prepared statements (generic plans: the
#         filter values are parameters), a random test image per query
#   plan  the plan of the filtered query
# with a plain index, hnsw (v), and with multicolumn indexes, hnsw (v, label)
# for 10% and hnsw (v, label, bucket) for 1%; then the same for ivfpq
# (lists = 256, default settings: ivfpq.probes 1, iterative_scan
# strict_order): ivfpq (v) and ivfpq (v, label, bucket).
#
#   bench/filtered_tuned.sh [seconds-per-run]      (default 10)
#   VECX_FILTERED_AMS="ivfpq" bench/filtered_tuned.sh   only some access methods
# Results: bench/out/filtered_tuned.txt
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

secs=${1:-10}
ams=${VECX_FILTERED_AMS:-hnsw ivfpq}
has_am() { case " $ams " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
vecx_need_pkgs $VECX_BASE_PKGS
vecx_build_install
mkdir -p bench/out
out=bench/out/filtered_tuned.txt

work=$(mktemp -d /tmp/vecx-bench.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir"
bindir=$("$PG_CONFIG" --bindir)
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }
[ "$(id -u)" -eq 0 ] && chown "$(vecx_pg_user)" "$work"

gcc -O2 -o "$work/fmnist" bench/fmnist.c
psql_ <<'SQL'
CREATE EXTENSION vecx;
CREATE TABLE raw (id int, label int, v vector(784));
CREATE TABLE items (id int PRIMARY KEY, label int, bucket int, v vector(784))
	WITH (toast_tuple_target = 8160);
CREATE TABLE queries (id int PRIMARY KEY, label int, bucket int, v vector(784))
	WITH (toast_tuple_target = 8160);
SQL
"$work/fmnist" train | psql_ -c '\copy raw FROM STDIN'
psql_ -c "INSERT INTO items SELECT id, label, (id * 7) % 10, v FROM raw; TRUNCATE raw"
"$work/fmnist" test 1000 | psql_ -c '\copy raw FROM STDIN'
psql_ -c "INSERT INTO queries SELECT id, label, id % 10, v FROM raw; DROP TABLE raw"
psql_ -c "VACUUM ANALYZE"

# exact filtered ground truth (no index yet)
psql_ <<'SQL'
SET max_parallel_workers_per_gather = 0;
CREATE TABLE gt0 AS SELECT q.id AS qid, s.id AS tid FROM queries q,
	LATERAL (SELECT id FROM items i ORDER BY i.v <-> q.v LIMIT 10) s;
CREATE TABLE gt1 AS SELECT q.id AS qid, s.id AS tid FROM queries q,
	LATERAL (SELECT id FROM items i WHERE i.label = q.label ORDER BY i.v <-> q.v LIMIT 10) s;
CREATE TABLE gt2 AS SELECT q.id AS qid, s.id AS tid FROM queries q,
	LATERAL (SELECT id FROM items i WHERE i.label = q.label AND i.bucket = q.bucket
			 ORDER BY i.v <-> q.v LIMIT 10) s;
SQL

where0='true'
where1='label = $1'
where2='label = $1 AND bucket = $2'

# rows and recall: every query once through a prepared statement
quality() {
	local where=$1 gt=$2
	psql_ -tA <<SQL
SET plan_cache_mode = force_generic_plan;
PREPARE p(int, int, vector) AS SELECT id FROM items WHERE $where ORDER BY v <-> \$3 LIMIT 10;
CREATE TEMP TABLE res (qid int, tid int);
DO \$\$
DECLARE r record;
BEGIN
	FOR r IN SELECT * FROM queries LOOP
		INSERT INTO res SELECT r.id, s.id FROM (SELECT i.id FROM items i
			WHERE $(echo "$where" | sed 's/label/i.label/; s/bucket/i.bucket/; s/\$1/r.label/; s/\$2/r.bucket/')
			ORDER BY i.v <-> r.v LIMIT 10) s;
	END LOOP;
END \$\$;
SELECT (SELECT count(*) FROM res) || ' ' ||
	round((SELECT count(*) FROM $gt JOIN res USING (qid, tid))::numeric / (SELECT count(*) FROM $gt), 4);
SQL
}

plan_of() {
	psql_ -tA <<SQL | grep -E 'Scan|Sort' | sed 's/^ *//; s/->  //; s/ on items.*//; s/  (.*//' | paste -sd '>' -
SET plan_cache_mode = force_generic_plan;
PREPARE p(int, int, vector) AS SELECT id FROM items WHERE $1 ORDER BY v <-> \$3 LIMIT 10;
EXPLAIN (COSTS OFF) EXECUTE p(3, 4, (array_fill(0, ARRAY[784]))::vector);
SQL
}

qps() {
	local where=$1
	cat >"$work/q.sql" <<SQL
\\set qid random(1, 1000)
SELECT id FROM items WHERE $(echo "$where" | sed 's/\$1/(SELECT label FROM queries WHERE id = :qid)/; s/\$2/(SELECT bucket FROM queries WHERE id = :qid)/')
	ORDER BY v <-> (SELECT v FROM queries WHERE id = :qid) LIMIT 10;
SQL
	"$bindir/pgbench" -n -U postgres -c 1 -T "$secs" -M prepared -f "$work/q.sql" postgres 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

run_case() {
	local index=$1 name=$2 where=$3 gt=$4 base=$5
	local q rows recall tps plan
	q=$(quality "$where" "$gt")
	rows=${q%% *}
	recall=${q##* }
	tps=$(qps "$where")
	plan=$(plan_of "$where")
	local ratio=-
	[ "$base" != 1 ] && ratio=$(printf '%.2f' "$(echo "$tps / $base" | bc -l)")
	printf '%-24s %-6s %6s %7s %8.1f %6s  %s\n' "$index" "$name" "$rows" "$recall" "$tps" \
		"$ratio" "$plan" | tee -a "$out"
	last_tps=$tps
}

{
	echo "# filtered search, Fashion-MNIST 60,000 x 784, L2, k=10, 1,000 queries, default settings"
	echo "# (hnsw.ef_search 40, iterative_scan strict_order, exact_fallback on; ivfpq.probes 1, iterative_scan strict_order), one client, ${secs}s per QPS run"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores"
	printf '%-24s %-6s %6s %7s %8s %6s  %s\n' index filter rows recall QPS vs_unf plan
} | tee "$out"

build() {
	local s e
	s=$(date +%s.%N)
	psql_ -c "SET maintenance_work_mem = '2GB'; $1"
	e=$(date +%s.%N)
	echo "# $1: $(echo "$e - $s" | bc) s" | tee -a "$out"
}

if has_am hnsw; then
	build "CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops)"
	psql_ -c "ANALYZE items"
	run_case "hnsw (v)" none "$where0" gt0 1
	base=$last_tps
	run_case "hnsw (v)" "10%" "$where1" gt1 "$base"
	run_case "hnsw (v)" "1%" "$where2" gt2 "$base"

	build "CREATE INDEX items_v_l ON items USING hnsw (v vector_l2_ops, label)"
	psql_ -c "DROP INDEX items_v; ANALYZE items"
	run_case "hnsw (v, label)" none "$where0" gt0 1
	base=$last_tps
	run_case "hnsw (v, label)" "10%" "$where1" gt1 "$base"

	build "CREATE INDEX items_v_lb ON items USING hnsw (v vector_l2_ops, label, bucket)"
	psql_ -c "DROP INDEX items_v_l; ANALYZE items"
	run_case "hnsw (v, label, bucket)" none "$where0" gt0 1
	base=$last_tps
	run_case "hnsw (v, label, bucket)" "10%" "$where1" gt1 "$base"
	run_case "hnsw (v, label, bucket)" "1%" "$where2" gt2 "$base"

	# the exact plans the cost model steers very selective filters to
	psql_ -c "CREATE INDEX items_lb ON items (label, bucket); ANALYZE items"
	run_case "+ btree (label, bucket)" "1%" "$where2" gt2 "$base"
	psql_ -c "DROP INDEX items_lb, items_v_lb; ANALYZE items"
fi

if has_am ivfpq; then
	build "CREATE INDEX items_ivf ON items USING ivfpq (v vector_l2_ops) WITH (lists = 256)"
	psql_ -c "ANALYZE items"
	run_case "ivfpq (v)" none "$where0" gt0 1
	base=$last_tps
	run_case "ivfpq (v)" "10%" "$where1" gt1 "$base"
	run_case "ivfpq (v)" "1%" "$where2" gt2 "$base"

	build "CREATE INDEX items_ivf_lb ON items USING ivfpq (v vector_l2_ops, label, bucket) WITH (lists = 256)"
	psql_ -c "DROP INDEX items_ivf; ANALYZE items"
	run_case "ivfpq (v, label, bucket)" none "$where0" gt0 1
	base=$last_tps
	run_case "ivfpq (v, label, bucket)" "10%" "$where1" gt1 "$base"
	run_case "ivfpq (v, label, bucket)" "1%" "$where2" gt2 "$base"

	psql_ -c "CREATE INDEX items_lb ON items (label, bucket); ANALYZE items"
	run_case "+ btree (label, bucket)" "1%" "$where2" gt2 "$base"
fi
