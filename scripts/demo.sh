#!/usr/bin/env bash
# demo.sh: the README's main command.  Installs what is missing, builds and
# installs vecx, starts a throwaway cluster, loads Fashion-MNIST (60,000 x
# 784 with labels) and runs nearest-neighbour queries, printing results and
# timings: exact search, then every index access method this build has,
# each with its recall@10 against the exact answer (vecx_index_recall() on
# 100 test images) so that no index's misses go unsaid.
#
#   scripts/demo.sh                        full data set
#   VECX_DEMO_ROWS=5000 scripts/demo.sh    a smaller load
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

rows=${VECX_DEMO_ROWS:-60000}
vecx_need_pkgs $VECX_BASE_PKGS bc
vecx_build_install

work=$(mktemp -d /tmp/vecx-demo.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir"
bindir=$("$PG_CONFIG" --bindir)

# psql talks to the cluster over its Unix socket with trust auth, so any
# local account may run it.
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }
has_am() { [ "$(psql_ -tA -c "SELECT count(*) FROM pg_am WHERE amname = '$1'")" = 1 ]; }
elapsed() { echo "$(date +%s.%N) - $1" | bc; }

gcc -O2 -o "$work/fmnist" bench/fmnist.c

log "loading $rows Fashion-MNIST training images and the 10,000 test images"
psql_ <<'SQL'
CREATE EXTENSION vecx;
-- toast_tuple_target keeps each 3 KB vector inline in its heap page, so an
-- exact scan computes distances without a TOAST lookup per row.
CREATE TABLE items (id int PRIMARY KEY, label int NOT NULL, embedding vector(784) NOT NULL)
	WITH (toast_tuple_target = 8160);
CREATE TABLE queries (id int PRIMARY KEY, label int NOT NULL, embedding vector(784) NOT NULL)
	WITH (toast_tuple_target = 8160);
SQL
start=$(date +%s.%N)
"$work/fmnist" train "$rows" | psql_ -c '\copy items FROM STDIN'
"$work/fmnist" test | psql_ -c '\copy queries FROM STDIN'
printf 'loaded in %.1f s\n' "$(elapsed "$start")"
psql_ -c 'VACUUM ANALYZE items' -c 'VACUUM ANALYZE queries'

# Five test images, their five nearest training images and distances.
show_queries() {
	psql_ <<'SQL'
SELECT q.id AS query, q.label AS query_label, n.id AS neighbour, n.label, round(n.dist::numeric, 1) AS distance
FROM (SELECT * FROM queries ORDER BY id LIMIT 5) q,
	LATERAL (SELECT i.id, i.label, i.embedding <-> q.embedding AS dist
			 FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 5) n
ORDER BY q.id, n.dist;
SQL
}

# 100 single top-10 queries, each its own statement, and how many of the
# returned neighbours share the query's label (a sanity check of quality).
bench_queries() {
	local label=$1
	psql_ -tA >"$work/q.sql" <<'SQL'
SELECT format('SELECT count(*) FILTER (WHERE label = %s) FROM (SELECT label FROM items ORDER BY embedding <-> %L LIMIT 10) s;', label, embedding)
FROM queries WHERE id <= 100 ORDER BY id;
SQL
	psql_ -c '\timing on' -f "$work/q.sql" >"$work/q.out"
	awk -v l="$label" '/^Time:/ { t += $2; n++ } /^ +[0-9]+$/ { same += $1 }
		END { if (n > 0) printf "%s: %d queries, mean %.2f ms (%.0f QPS, psql round trip included); %.0f%% of neighbours share the query label\n", l, n, t / n, 1000 * n / t, same / n * 10 }' "$work/q.out"
}

# recall@10 of index $1 against the exact scan, on 100 test images, at the
# session's settings given as $2 (a SET statement or nothing)
show_recall() {
	psql_ -c "$2" -c "SELECT n_queries, round(recall::numeric, 4) AS \"recall@10\",
		round(recall_min::numeric, 2) AS worst_query, round(index_mean_ms::numeric, 2) AS index_ms,
		round(exact_mean_ms::numeric, 1) AS exact_ms
	FROM vecx_index_recall('$1', queries => 'SELECT embedding FROM queries WHERE id <= 100 ORDER BY id')"
}

echo
echo "== exact search (sequential scan) =="
show_queries
bench_queries "exact search"

if has_am hnsw; then
	echo
	echo "== hnsw index (m = 16, ef_construction = 64) =="
	psql_ -c '\timing on' -c 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)'
	psql_ -c "SELECT pg_size_pretty(pg_relation_size('items_hnsw')) AS index_size"
	show_queries
	bench_queries "hnsw (ef_search 40)"
	echo "recall@10 against the exact scan (hnsw.ef_search = 40, the default):"
	show_recall items_hnsw "SET hnsw.ef_search = 40"
	psql_ -c 'DROP INDEX items_hnsw'
fi

if has_am ivfpq; then
	echo
	echo "== ivfpq index (lists = 256) =="
	psql_ -c '\timing on' -c 'CREATE INDEX items_ivfpq ON items USING ivfpq (embedding vector_l2_ops) WITH (lists = 256)'
	psql_ -c "SELECT pg_size_pretty(pg_relation_size('items_ivfpq')) AS index_size"
	# ivfpq.probes = 1 is the default, as for pgvector's ivfflat: fast, and
	# it misses neighbours in lists it does not read; docs/tuning.md
	# recommends about 3% of the lists (8 of 256) for recall 0.99
	show_queries
	bench_queries "ivfpq (probes 1, the default)"
	echo "recall@10 against the exact scan, ivfpq.probes = 1 (default) and 8 (docs/tuning.md):"
	show_recall items_ivfpq "SET ivfpq.probes = 1"
	show_recall items_ivfpq "SET ivfpq.probes = 8"
fi
