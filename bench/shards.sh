#!/usr/bin/env bash
# shards.sh: top-10 search on one node against 2 and 4 shards behind a
# postgres_fdw coordinator (docs/scale-out.md), all on this machine.
#
# For each setup: throwaway clusters (scripts/shard-lib.sh), the rows
# loaded (through the coordinator when sharded), hnsw built on every shard
# at once (build time), then the smallest hnsw.ef_search of a list whose
# recall@10 over the query vectors reaches 0.99 against the exact answer
# (for shards the setting travels in the foreign servers' options), and at
# that ef_search pgbench with one client: QPS, p50 and p99 latency of
#   - the top-10 on the single node or through the coordinator (Merge Append
#     over the shards' cursors, fetch_size 10);
#   - the same as one LIMIT per shard (async Append);
#   - each shard's own top-10 asked directly (the per-shard work).
# The coordinator's cost per query is its latency less the shards' own
# (they are asked one after another by Merge Append).
#
#   bench/shards.sh             results: bench/out/shards.txt
#   SHARDS_ROWS=60000           rows (Fashion-MNIST train; generated vectors without the data set)
#   SHARDS_QUERIES=200          query vectors for recall (Fashion-MNIST test)
#   SHARDS_TIMED=500            timed queries per variant
#   SHARDS_SETUPS="1 2 4"       shard counts (1: a single node, no coordinator)
#   SHARDS_EF="10 16 ..."       ef_search values tried, increasing
#   VECX_SKIP_BUILD=1           use the installed vecx
#   VECX_PORT_BASE=25431        fixed ports (base, base+1, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/shard-lib.sh

rows=${SHARDS_ROWS:-60000}
nq=${SHARDS_QUERIES:-200}
timed=${SHARDS_TIMED:-500}
setups=${SHARDS_SETUPS:-"1 2 4"}
efs=${SHARDS_EF:-"10 16 24 32 40 64 100 160 256 400"}
port_base=${VECX_PORT_BASE:-}
target=0.99

if [ "${VECX_SKIP_BUILD:-0}" != 1 ]; then
	vecx_need_pkgs $VECX_BASE_PKGS bc
	vecx_build_install
fi
mkdir -p bench/out
out=bench/out/shards.txt

work=$(mktemp -d /tmp/vecx-shards-bench.XXXXXX)
chmod 755 "$work"
shard_init
live=()
trap 'shard_stop "${live[@]}"; rm -rf "$work"' EXIT

gen_rows >"$work/rows.tsv"
gen_queries >"$work/queries.tsv"
chmod 644 "$work"/*.tsv

# The exact top-10 of every query vector, once, from a plain table.
shard_start gt
live=(gt)
psql_ gt -c "CREATE EXTENSION vecx" -c "CREATE TABLE items ($table_sql)" -c "CREATE TABLE queries ($table_sql)" \
	-c "\\copy items FROM '$work/rows.tsv'" -c "\\copy queries FROM '$work/queries.tsv'"
start=$(date +%s.%N)
psql_ gt -c "CREATE TABLE gt AS SELECT q.id AS qid, array(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding, i.id LIMIT 10) AS ids FROM queries q" \
	-c "\\copy gt TO '$work/gt.tsv'"
log "exact answers of $nq queries in $(elapsed "$start") s"
qmin=$(psql_ gt -tA -c "SELECT min(id) FROM queries")
qmax=$(psql_ gt -tA -c "SELECT max(id) FROM queries")
shard_stop gt
live=()

# recall@10 of NODE's top-10 over all query vectors (the settings of the
# session or of the foreign servers apply).
recall() {
	psql_ "$1" -tA -c "SELECT round(sum(cardinality(array(SELECT unnest(r.ids) INTERSECT SELECT unnest(g.ids))))::numeric / (10 * count(*)), 4)
		FROM gt g JOIN LATERAL (SELECT array(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10) AS ids
			FROM queries q WHERE q.id = g.qid) r ON true"
}

# pgbench with one client: "QPS p50_ms p99_ms mean_ms" of timed queries of
# sql (:q a random query vector's id) on node; PGOPTIONS for the session.
bench() {
	local node=$1 sql=$2 opts=${3:-} tag
	tag=$work/pgb.$RANDOM
	printf '\\set q random(%d, %d)\n%s;\n' "$qmin" "$qmax" "$sql" >"$tag.sql"
	chmod 644 "$tag.sql"
	PGOPTIONS="$opts" "$bindir/pgbench" -n -h "$work/$node" -p "${port[$node]}" -U postgres -c 1 -t 20 -f "$tag.sql" postgres >/dev/null
	PGOPTIONS="$opts" "$bindir/pgbench" -n -h "$work/$node" -p "${port[$node]}" -U postgres -c 1 -t "$timed" \
		-l --log-prefix="$tag.log" -f "$tag.sql" postgres >"$tag.out"
	cat "$tag".log.* | awk '{ print $3 / 1000 }' | sort -n |
		awk -v tps="$(awk '/^tps/ { print $3; exit }' "$tag.out")" '{ t[NR] = $1; s += $1 } END {
			n = NR; i = int(n * 0.99); if (i < 1) i = 1
			printf "%.0f %.2f %.2f %.2f\n", tps, t[int(n * 0.5) + 1], t[i], s / n }'
	rm -f "$tag".*
}

qvec='(SELECT embedding FROM queries WHERE id = :q)'
topk="SELECT id FROM items ORDER BY embedding <-> $qvec LIMIT 10"

{
	echo "# bench/shards.sh $(date -u +%Y-%m-%d): $rows rows of $data ($dim dimensions), $nq query vectors for recall,"
	echo "# $timed timed top-10 queries per line (pgbench, 1 client, the query vector from a table on the node);"
	echo "# hnsw m 16, ef_construction 64; every cluster on this machine ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "# ef_search: the smallest of ($efs) reaching recall@10 >= $target"
	echo
	printf '%-44s %7s %7s %6s %8s %7s %8s %8s %8s\n' setup "load s" "build s" ef recall QPS "p50 ms" "p99 ms" "mean ms"
} | tee "$out"

for n in $setups; do
	if [ "$n" = 1 ]; then
		node=single
		shard_start single
		live=(single)
		shard_items single
		start=$(date +%s.%N)
		psql_ single -c "\\copy items FROM '$work/rows.tsv'"
		load=$(elapsed "$start")
		build=$(shard_build single)
		shards=()
	else
		node=coord
		shards=()
		for ((i = 0; i < n; i++)); do shards+=("shard$i"); done
		shard_start "${shards[@]}" coord
		live=("${shards[@]}" coord)
		shard_items "${shards[@]}"
		shard_coordinator coord "${shards[@]}"
		start=$(date +%s.%N)
		psql_ coord -c "\\copy items FROM '$work/rows.tsv'"
		load=$(elapsed "$start")
		build=$(shard_build "${shards[@]}")
		psql_ coord -c "ANALYZE items"
	fi
	for s in "$node" "${shards[@]}"; do
		psql_ "$s" -c "CREATE TABLE queries ($table_sql)" -c "CREATE TABLE gt (qid int, ids int[])" \
			-c "\\copy queries FROM '$work/queries.tsv'" -c "\\copy gt FROM '$work/gt.tsv'"
	done

	ef= r= tried=
	for e in $efs; do
		if [ "$n" = 1 ]; then
			r=$(PGOPTIONS="-c hnsw.ef_search=$e" recall single)
		else
			shard_server_options coord "$n" "-c hnsw.ef_search=$e"
			r=$(recall coord)
		fi
		log "$n: ef_search $e: recall@10 $r"
		tried="$tried${tried:+, }$e: $r"
		ef=$e
		[ "$(echo "$r >= $target" | bc)" = 1 ] && break
	done

	if [ "$n" = 1 ]; then
		read -r qps p50 p99 mean <<<"$(bench single "$topk" "-c hnsw.ef_search=$ef")"
		printf '%-44s %7.1f %7.1f %6d %8s %7d %8s %8s %8s\n' "1 node, $rows rows" "$load" "$build" "$ef" "$r" "$qps" "$p50" "$p99" "$mean" | tee -a "$out"
	else
		read -r qps p50 p99 mean <<<"$(bench coord "$topk")"
		coord_mean=$mean
		printf '%-44s %7.1f %7.1f %6d %8s %7d %8s %8s %8s\n' "$n shards + coordinator (Merge Append)" "$load" "$build" "$ef" "$r" "$qps" "$p50" "$p99" "$mean" | tee -a "$out"
		read -r qps p50 p99 mean <<<"$(bench coord "$(shard_per_shard_sql "$qvec" "$n")")"
		printf '%-44s %7s %7s %6d %8s %7d %8s %8s %8s\n' "  the same, one LIMIT per shard (async)" - - "$ef" - "$qps" "$p50" "$p99" "$mean" | tee -a "$out"
		sum=0 max=0
		for s in "${shards[@]}"; do
			read -r qps p50 p99 mean <<<"$(bench "$s" "$topk" "-c hnsw.ef_search=$ef")"
			cnt=$(psql_ "$s" -tA -c "SELECT count(*) FROM items")
			printf '%-44s %7s %7s %6d %8s %7d %8s %8s %8s\n' "  $s alone ($cnt rows), asked directly" - - "$ef" - "$qps" "$p50" "$p99" "$mean" | tee -a "$out"
			sum=$(echo "$sum + $mean" | bc)
			max=$(echo "if ($mean > $max) $mean else $max" | bc)
		done
		printf '  %s\n' "shards' own work per query: sum of means $sum ms, slowest shard $max ms;" \
			"the coordinator's cost per query (Merge Append mean less the sum): $(echo "$coord_mean - $sum" | bc) ms" | tee -a "$out"
	fi
	printf '  %s\n' "recall@10 by ef_search: $tried" | tee -a "$out"
	shard_stop "${live[@]}"
	live=()
done
log "results in $out"
