#!/usr/bin/env bash
# hnsw_scale.sh: hnsw build time against table size, beside hnswlib.
#
# A generated cosine set (bench/hnsw_scale_gen.py: unit vectors from
# Gaussian clusters, 128 dimensions by default), for each ROWS given: load
# into a plain CREATE TABLE, CREATE INDEX USING hnsw (v vector_cosine_ops)
# with 2 parallel workers (m 16, ef_construction 64, maintenance_work_mem
# 2GB), index size, the build's peak memory (VmHWM of the backend and
# workers), recall@10 and QPS at hnsw.ef_search 20, 40, 80 and 160 (200
# queries as text literals from one psql client, default settings); then
# hnswlib (-march=native, 2 threads, M 16, ef_construction 64, L2 on the
# same unit vectors) on the same data.
#
#   bench/hnsw_scale.sh [ROWS...]          default: 60000 200000 1000000
#   HNSW_SCALE_DIMS=128
# Results: bench/out/hnsw_scale.txt.  Installs vecx into $PG_CONFIG's server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh

vecx_need_pkgs $VECX_BASE_PKGS python3-faiss libhnswlib-dev
dims=${HNSW_SCALE_DIMS:-128}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(60000 200000 1000000)
nq=200
py=/usr/bin/python3
mkdir -p bench/out
out=bench/out/hnsw_scale.txt
work=$(mktemp -d /tmp/vecx-scale.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
cleanup() {
	vecx_stop_cluster "$cluster_dir" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
psql_() { "$("$PG_CONFIG" --bindir)/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }

vecx_build_install >/dev/null
g++ -O3 -march=native -o "$work/hnswlib" bench/hnsw_hnswlib.cpp -lpthread
vecx_start_cluster "$cluster_dir"
psql_ -c 'CREATE EXTENSION vecx'

# peak resident memory (kB) of the backend and its parallel workers while
# CREATE INDEX runs: sampled from /proc every 0.2 s
watch_mem() {
	local peak=0 m
	while [ -f "$work/building" ]; do
		for p in $(pgrep -f "postgres: .*(CREATE INDEX|parallel worker)" || true); do
			m=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
			[ "${m:-0}" -gt "$peak" ] && peak=$m
		done
		sleep 0.2
	done
	echo "$peak" >"$work/peak"
}

{
	echo "# hnsw build scaling: generated ${dims}-dim unit vectors (Gaussian clusters of 100), cosine, k=10, $nq queries"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# vecx: plain table, CREATE INDEX with 2 workers, maintenance_work_mem 2GB; queries as text literals, one psql client"
	echo "# hnswlib: in-process, 2 threads for the build, one for queries; peak = largest VmHWM of the build's backend or a worker"
} | tee "$out"

for n in "${sizes[@]}"; do
	log "rows $n: generating"
	d=$work/d$n
	mkdir -p "$d"
	$py bench/hnsw_scale_gen.py "$n" "$dims" "$nq" "$d"
	psql_ -c "DROP TABLE IF EXISTS sc" -c "CREATE TABLE sc (id int, label int, v vector($dims))"
	t0=$(now)
	psql_ -c "\\copy sc FROM '$d/train.tsv'"
	load_s=$(echo "$(now) - $t0" | bc)
	psql_ -c 'VACUUM ANALYZE sc'
	log "rows $n: building"
	touch "$work/building"
	watch_mem &
	t0=$(now)
	psql_ -c 'SET maintenance_work_mem = '"'2GB'" -c 'SET max_parallel_maintenance_workers = 2' \
		-c 'CREATE INDEX sc_v ON sc USING hnsw (v vector_cosine_ops)'
	build_s=$(echo "$(now) - $t0" | bc)
	rm -f "$work/building"
	wait
	size=$(psql_ -tA -c "SELECT pg_relation_size('sc_v')")
	printf 'rows %8d  load %6.1f s  vecx build %7.1f s  index %6.0f MB  build peak %5.0f MB\n' \
		"$n" "$load_s" "$build_s" "$(echo "$size / 1048576" | bc -l)" "$(echo "$(cat "$work/peak") / 1024" | bc -l)" | tee -a "$out"
	$py - "$d/test.tsv" >"$work/q.sql" <<'PY'
import sys
for line in open(sys.argv[1]):
    v = line.rstrip('\n').split('\t')[2]
    print("SELECT string_agg(id::text, ',') FROM (SELECT id FROM sc ORDER BY v <=> '%s' LIMIT 10) s;" % v)
PY
	for ef in 20 40 80 160; do
		(echo "SET hnsw.ef_search = $ef;"; head -20 "$work/q.sql") | psql_ -tA >/dev/null
		t0=$(now)
		(echo "SET hnsw.ef_search = $ef;"; cat "$work/q.sql") | psql_ -tA >"$work/res.txt"
		wall=$(echo "$(now) - $t0" | bc)
		rec=$(paste -d' ' "$d/gt.txt" "$work/res.txt" | awk '{split($11, g, ","); h=0; for (i=1;i<=10;i++) for (j in g) if (g[j]==$i) h++; t+=h} END {printf "%.4f", t/(NR*10)}')
		printf '  vecx    ef %3d  recall %s  QPS %7.1f\n' "$ef" "$rec" "$(echo "$nq / $wall" | bc -l)" | tee -a "$out"
	done
	psql_ -c 'DROP TABLE sc'
	log "rows $n: hnswlib (the server idle)"
	HNSW_DIMS=$dims "$work/hnswlib" "$d/train.tsv" "$d/test.tsv" "$d/gt.txt" 2 20 40 80 160 >"$work/lib.csv"
	printf '  hnswlib build %7.1f s (2 threads)\n' "$(sed -n 's/^build_s,//p' "$work/lib.csv")" | tee -a "$out"
	awk -F, '$1 ~ /^[0-9]+$/ {printf "  hnswlib ef %3d  recall %.4f  QPS %7.1f\n", $1, $2, $3}' "$work/lib.csv" | tee -a "$out"
	rm -rf "$d"
done
