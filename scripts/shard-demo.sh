#!/usr/bin/env bash
# shard-demo.sh: vector search over several PostgreSQL servers with
# PostgreSQL's own sharding (docs/scale-out.md).  Starts N throwaway shard
# clusters, a coordinator and a single node for comparison on this machine,
# vecx on each; on the coordinator a table partitioned by hash of tenant
# whose partitions are postgres_fdw foreign tables on the shards.  Loads
# Fashion-MNIST through the coordinator (or generated vectors when the data
# set is not installed), builds an hnsw index on every shard at once, and
# shows the plans (the coordinator's remote SQL, each shard's index scan),
# the answers and the latency of top-10 queries on the coordinator and on
# the single node.
#
#   scripts/shard-demo.sh                      2 shards, 20,000 rows
#   VECX_SHARDS=4 VECX_DEMO_ROWS=60000 scripts/shard-demo.sh
#   VECX_DEMO_QUERIES=100                      timed queries per variant
#   VECX_PORT_BASE=25431                       fixed ports (base, base+1, ...)
#   VECX_SKIP_BUILD=1                          use the installed vecx
#   VECX_KEEP=1                                leave the clusters running
#   VECX_FMNIST_DIR=DIR                        where Fashion-MNIST is (no files: generated vectors)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

. scripts/shard-lib.sh

shards=${VECX_SHARDS:-2}
rows=${VECX_DEMO_ROWS:-20000}
nq=${VECX_DEMO_QUERIES:-100}
port_base=${VECX_PORT_BASE:-}

if [ "${VECX_SKIP_BUILD:-0}" != 1 ]; then
	# postgres_fdw is part of Debian's postgresql-15 package
	vecx_need_pkgs $VECX_BASE_PKGS bc
	vecx_build_install
fi

work=$(mktemp -d /tmp/vecx-shards.XXXXXX)
chmod 755 "$work"
shard_init
nodes=()
for ((i = 0; i < shards; i++)); do nodes+=("shard$i"); done
nodes+=(coord single)
cleanup() {
	if [ "${VECX_KEEP:-0}" = 1 ]; then
		log "clusters left running under $work (stop: pg_ctl -D $work/NODE/data stop)"
		return
	fi
	shard_stop "${nodes[@]}"
	rm -rf "$work"
}
trap cleanup EXIT

shard_start "${nodes[@]}"

log "$shards shards, a coordinator and a single node; $rows rows of $data"
shard_items "${nodes[@]:0:shards}" single
shard_coordinator coord "${nodes[@]:0:shards}"
psql_ coord -c "CREATE TABLE queries ($table_sql)"

log "loading through the coordinator (each row goes to its tenant's shard)"
start=$(date +%s.%N)
gen_rows | psql_ coord -c '\copy items FROM STDIN'
printf 'loaded %d rows through the coordinator in %.1f s\n' "$rows" "$(elapsed "$start")"
gen_rows | psql_ single -c '\copy items FROM STDIN'
gen_queries | psql_ coord -c '\copy queries FROM STDIN'
psql_ coord -c "SELECT tableoid::regclass AS partition, count(*) AS rows, count(DISTINCT tenant) AS tenants FROM items GROUP BY 1 ORDER BY 1"

log "building the hnsw index on every shard at once"
printf 'indexes built in %.1f s (shards and the single node together)\n' "$(shard_build "${nodes[@]:0:shards}" single)"
for ((i = 0; i < shards; i++)); do
	psql_ "shard$i" -tA -c "SELECT 'shard$i: vecx_index_check ' || coalesce(nullif(vecx_index_check('items_embedding_idx', true)::text, ''), 'ok')"
done
# statistics of the foreign partitions (sampled from the shards)
psql_ coord -c "ANALYZE items"

q1=$(psql_ coord -tA -c "SELECT embedding FROM queries ORDER BY id LIMIT 1")
topk="SELECT id, tenant, label, round((embedding <-> '$q1')::numeric, 1) AS distance FROM items ORDER BY embedding <-> '$q1' LIMIT 10"
# plans without the 784 numbers of the query vector
explain() {
	local n=$1
	shift
	psql_ "$n" -tA "$@" | sed -E 's/\[[0-9.,e+-]{40,}\]/[...]/g'
}

echo
echo "== top-10 on the coordinator: EXPLAIN VERBOSE =="
explain coord -c "EXPLAIN (VERBOSE, COSTS OFF) $topk"
# hnsw is approximate: the shards' answer and the single node's may each
# miss a row of the exact answer (the shards search smaller graphs).
echo "== the answer: coordinator (hnsw on the shards), single node (hnsw), exact =="
psql_ coord -c "$topk"
psql_ single -c "$topk"
psql_ single -c "SET enable_indexscan = off" -c "$topk"

echo "== what shard0 runs for it: the remote SQL as a cursor (cursor_tuple_fraction $(psql_ shard0 -tA -c 'SHOW cursor_tuple_fraction')) =="
explain shard0 -c "BEGIN" -c "EXPLAIN (COSTS OFF) DECLARE c1 CURSOR FOR SELECT id, tenant, label, embedding FROM public.items ORDER BY (embedding OPERATOR(public.<->) '$q1'::public.vector) ASC NULLS LAST" -c "COMMIT"

echo "== one tenant: the WHERE is pushed down and partition pruning leaves one shard =="
explain coord -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items WHERE tenant = 7 ORDER BY embedding <-> '$q1' LIMIT 10"
echo "== a filter on another column goes to every shard =="
explain coord -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items WHERE label = 3 ORDER BY embedding <-> '$q1' LIMIT 10"

per_shard() { shard_per_shard_sql "$1" "$shards"; }
echo "== the same top-10 with a LIMIT per shard =="
explain coord -c "EXPLAIN (VERBOSE, COSTS OFF) $(per_shard "'$q1'::vector")"

# Latency: nq top-10 queries per variant, one statement each, through
# psql; the query vectors come from the coordinator's queries table (%1$L
# in the SQL).  The machine may be shared, so the variants take turns in
# rounds of nq/5 queries, and each round's session first runs one untimed
# query (connections to the shards, caches).
# items_fs100: the same shards with postgres_fdw's default fetch_size 100.
{
	echo "CREATE TABLE items_fs100 ($table_sql) PARTITION BY HASH (tenant);"
	for ((i = 0; i < shards; i++)); do
		echo "CREATE FOREIGN TABLE items_fs100_shard$i PARTITION OF items_fs100
			FOR VALUES WITH (MODULUS $shards, REMAINDER $i) SERVER shard$i OPTIONS (table_name 'items', fetch_size '100');"
	done
	echo "ANALYZE items_fs100;"
} | psql_ coord
labels=("single node, hnsw" "shard0 alone, hnsw" "coordinator, $shards shards, fetch_size 10"
	"coordinator, $shards shards, fetch_size 100" "coordinator, $shards shards, LIMIT per shard, async")
bnodes=(single shard0 coord coord coord)
plain='SELECT id FROM items ORDER BY embedding <-> %1$L LIMIT 10'
sqls=("$plain" "$plain" "$plain" 'SELECT id FROM items_fs100 ORDER BY embedding <-> %1$L LIMIT 10' "$(per_shard '%1$L::vector')")
rounds=5
chunk=$(((nq + rounds - 1) / rounds))
for v in "${!labels[@]}"; do
	psql_ coord -tA -c "SELECT format(\$f\$${sqls[$v]};\$f\$, embedding) FROM (SELECT embedding FROM queries ORDER BY id) q" >"$work/q$v.sql"
	: >"$work/t$v.txt"
done
for ((r = 0; r < rounds; r++)); do
	for v in "${!labels[@]}"; do
		{
			sed -n "$((r * chunk + 1))p" "$work/q$v.sql" | sed 's/;$/ \\g \/dev\/null/'
			echo '\timing on'
			sed -n "$((r * chunk + 1)),$(((r + 1) * chunk))p" "$work/q$v.sql"
		} >"$work/round.sql"
		psql_ "${bnodes[$v]}" -f "$work/round.sql" | awk '/^Time:/ { print $2 }' >>"$work/t$v.txt"
	done
done

echo
echo "== latency of top-10 ($nq queries each, psql round trip included) =="
for v in "${!labels[@]}"; do
	sort -n "$work/t$v.txt" | awk -v l="${labels[$v]}" '{ t[NR] = $1; s += $1 } END { n = NR; i = int(n * 0.99); if (i < 1) i = 1;
		printf "%-52s %4d queries  mean %6.2f ms  p50 %6.2f ms  p99 %6.2f ms\n", l, n, s / n, t[int(n * 0.5) + 1], t[i] }'
done

echo
echo "== a stopped shard: the query fails, it does not return fewer rows =="
vecx_stop_cluster "$work/shard$((shards - 1))"
psql_ coord -c "$topk" 2>&1 | sed -E 's/\[[0-9.,e+-]{40,}\]/[...]/g' || true
vecx_as_pg "'$bindir/pg_ctl' -D '$work/shard$((shards - 1))/data' -l '$work/shard$((shards - 1))/server.log' -w start >/dev/null"
