#!/usr/bin/env bash
# hnsw.sh: hnsw index benchmark on Fashion-MNIST, against hnswlib.
#
# 60,000 training images as the table, 1,000 test images as queries, L2,
# k = 10, exact ground truth from faiss (flat).  Measures load time, build
# time and size of the hnsw index (vector, vector with quantization = sq8,
# and halfvec), recall@10 and
# single-client QPS through SQL (libpq, prepared statement, text parameter,
# bench/hnsw_client.c) for hnsw.ef_search in 10..400, each index walked
# through the buffer manager and, with hnsw.cache_size, as a backend-local
# graph copy (also on a copy of the table with the vectors stored inline,
# STORAGE PLAIN, where the executor reads no TOAST), and the same for
# hnswlib in-process (M=16, ef_construction=64, 2 build threads, 1 search
# thread, -O3 -march=native).
#
#   bench/hnsw.sh          results: bench/out/hnsw.txt, hnsw_*.csv, hnsw.png
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

vecx_need_pkgs $VECX_BASE_PKGS libhnswlib-dev python3-faiss python3-matplotlib libpq-dev
vecx_build_install
mkdir -p bench/out
out=bench/out/hnsw.txt
efs="10 20 30 40 50 80 120 200 400"

work=$(mktemp -d /tmp/vecx-bench.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir"
bindir=$("$PG_CONFIG" --bindir)
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }
# run_client OUT TABLE COLUMN TYPE: three passes over every ef in one
# session, best pass per ef kept (bench/best_of.py); PGOPTIONS applies
run_client() {
	local out=$1
	shift
	"$work/client" "$conn" "$work/test.tsv" "$work/gt.txt" "$@" $efs $efs $efs >"$out.raw"
	/usr/bin/python3 bench/best_of.py "$out.raw" | tee "$out"
}
secs() { local s=$1; echo "$(date +%s.%N) - $s" | bc; }

gcc -O2 -o "$work/fmnist" bench/fmnist.c
"$work/fmnist" train >"$work/train.tsv"
"$work/fmnist" test 1000 >"$work/test.tsv"
/usr/bin/python3 bench/hnsw_gt.py "$work/train.tsv" "$work/test.tsv" "$work/gt.txt"
gcc -O2 -o "$work/client" bench/hnsw_client.c -I"$("$PG_CONFIG" --includedir)" -lpq
g++ -O3 -march=native -o "$work/hnswlib" bench/hnsw_hnswlib.cpp -lpthread

psql_ <<'SQL'
CREATE EXTENSION vecx;
CREATE TABLE items (id int PRIMARY KEY, label int, embedding vector(784));
SQL
start=$(date +%s.%N)
psql_ -c '\copy items FROM '"'$work/train.tsv'"
load_s=$(secs "$start")
psql_ -c 'VACUUM ANALYZE items'

start=$(date +%s.%N)
psql_ -c 'SET max_parallel_maintenance_workers = 0' -c 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)'
sbuild_s=$(secs "$start")
psql_ -c 'DROP INDEX items_hnsw'
start=$(date +%s.%N)
psql_ -c 'SET max_parallel_maintenance_workers = 2' -c 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)'
build_s=$(secs "$start")
size=$(psql_ -tA -c "SELECT pg_relation_size('items_hnsw')")
conn="host=$PGHOST port=$PGPORT user=postgres dbname=postgres"
run_client bench/out/hnsw_sql.csv items embedding vector
cache="-c hnsw.cache_size=2GB"
PGOPTIONS="$cache" run_client bench/out/hnsw_sql_cache.csv items embedding vector

# the same column with quantization = sq8 (8-bit codes, exact re-rank from the heap)
psql_ -c 'DROP INDEX items_hnsw'
start=$(date +%s.%N)
psql_ -c 'SET max_parallel_maintenance_workers = 2' -c 'CREATE INDEX items_hnsw_sq8 ON items USING hnsw (embedding vector_l2_ops) WITH (quantization = sq8)'
qbuild_s=$(secs "$start")
qsize=$(psql_ -tA -c "SELECT pg_relation_size('items_hnsw_sq8')")
run_client bench/out/hnsw_sql_sq8.csv items embedding vector
PGOPTIONS="$cache" run_client bench/out/hnsw_sql_sq8_cache.csv items embedding vector
psql_ -c 'DROP INDEX items_hnsw_sq8'

# vectors stored inline (no TOAST read when the executor computes distances)
psql_ <<'SQL'
CREATE TABLE items_inline (id int PRIMARY KEY, label int, embedding vector(784));
ALTER TABLE items_inline ALTER embedding SET STORAGE PLAIN;
INSERT INTO items_inline SELECT * FROM items;
VACUUM ANALYZE items_inline;
SET max_parallel_maintenance_workers = 2;
CREATE INDEX items_inline_sq8 ON items_inline USING hnsw (embedding vector_l2_ops) WITH (quantization = sq8);
SQL
PGOPTIONS="$cache" run_client bench/out/hnsw_sql_sq8_inline_cache.csv items_inline embedding vector
psql_ -c 'DROP INDEX items_inline_sq8' -c 'CREATE INDEX items_inline_hnsw ON items_inline USING hnsw (embedding vector_l2_ops)'
PGOPTIONS="$cache" run_client bench/out/hnsw_sql_inline_cache.csv items_inline embedding vector
psql_ -c 'DROP TABLE items_inline'

psql_ <<'SQL'
ALTER TABLE items ADD COLUMN h halfvec(784);
UPDATE items SET h = embedding::halfvec(784);
VACUUM ANALYZE items;
SQL
start=$(date +%s.%N)
psql_ -c 'CREATE INDEX items_hnsw_h ON items USING hnsw (h halfvec_l2_ops)'
hbuild_s=$(secs "$start")
hsize=$(psql_ -tA -c "SELECT pg_relation_size('items_hnsw_h')")
run_client bench/out/hnsw_sql_halfvec.csv items h halfvec
PGOPTIONS="$cache" run_client bench/out/hnsw_sql_halfvec_cache.csv items h halfvec

# stop the cluster so hnswlib has the machine to itself
vecx_stop_cluster "$cluster_dir"
"$work/hnswlib" "$work/train.tsv" "$work/test.tsv" "$work/gt.txt" 2 $efs $efs $efs >bench/out/hnsw_hnswlib.csv.raw
/usr/bin/python3 bench/best_of.py bench/out/hnsw_hnswlib.csv.raw | tee bench/out/hnsw_hnswlib.csv
lib_build=$(sed -n 's/^build_s,//p' bench/out/hnsw_hnswlib.csv)

raw=$((60000 * 784 * 4))
{
	echo "# hnsw bench: Fashion-MNIST 60,000 x 784 (1,000 queries), L2, k=10, m=16, ef_construction=64"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores (shared; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)); vecx.simd=auto; SQL: one client, prepared statement"
	echo "load (COPY 60,000 rows):            ${load_s}s"
	echo "build vector index (2 workers):     ${build_s}s   hnswlib (2 threads): ${lib_build}s   ratio $(echo "scale=2; $build_s / $lib_build" | bc)"
	echo "build vector index (serial):        ${sbuild_s}s"
	echo "build halfvec index (2 workers):    ${hbuild_s}s"
	echo "build vector sq8 index (2 workers): ${qbuild_s}s   ratio to hnswlib $(echo "scale=2; $qbuild_s / $lib_build" | bc)"
	echo "index size vector:                  $size bytes = $(echo "scale=3; $size / $raw" | bc) x raw float32 ($raw)"
	echo "index size halfvec:                 $hsize bytes = $(echo "scale=3; $hsize / $size" | bc) x the vector index"
	echo "index size vector sq8:              $qsize bytes = $(echo "scale=3; $qsize / $raw" | bc) x raw float32"
	echo
	echo "QPS = wall-clock queries/s of one client (best of 3 passes in one session, hnswlib likewise); cpu = server backend (or hnswlib process) CPU ms per query"
	printf '%-6s | %-30s | %-30s | %-30s | %-30s\n' ef "vecx SQL vector" "vecx SQL vector sq8" "vecx SQL halfvec" "hnswlib in-process"
	printf '%-6s | %-30s | %-30s | %-30s | %-30s\n' "" "recall     QPS    cpu" "recall     QPS    cpu" "recall     QPS    cpu" "recall     QPS    cpu"
	for ef in $efs; do
		a=$(awk -F, -v e=$ef '$1==e {printf "%.4f  %7.1f  %6.3f", $2, $3, $5}' bench/out/hnsw_sql.csv)
		q=$(awk -F, -v e=$ef '$1==e {printf "%.4f  %7.1f  %6.3f", $2, $3, $5}' bench/out/hnsw_sql_sq8.csv)
		b=$(awk -F, -v e=$ef '$1==e {printf "%.4f  %7.1f  %6.3f", $2, $3, $5}' bench/out/hnsw_sql_halfvec.csv)
		c=$(awk -F, -v e=$ef '$1==e {printf "%.4f  %7.1f  %6.3f", $2, $3, $5}' bench/out/hnsw_hnswlib.csv)
		printf '%-6s | %-30s | %-30s | %-30s | %-30s\n' "$ef" "$a" "$q" "$b" "$c"
	done
	echo
	echo "with hnsw.cache_size = 2GB (scans walk a backend-local graph copy; float32/float16 copies walk sq8 codes, then re-rank exactly)"
	printf '%-6s | %-30s | %-30s | %-30s | %-30s | %-30s\n' ef "vector + copy" "vector sq8 + copy" "halfvec + copy" "inline table: vector + copy" "inline table: sq8 + copy"
	printf '%-6s | %-30s | %-30s | %-30s | %-30s | %-30s\n' "" "recall     QPS    cpu" "recall     QPS    cpu" "recall     QPS    cpu" "recall     QPS    cpu" "recall     QPS    cpu"
	for ef in $efs; do
		row=$(printf '%-6s' "$ef")
		for f in hnsw_sql_cache hnsw_sql_sq8_cache hnsw_sql_halfvec_cache hnsw_sql_inline_cache hnsw_sql_sq8_inline_cache; do
			row="$row | $(printf '%-30s' "$(awk -F, -v e=$ef '$1==e {printf "%.4f  %7.1f  %6.3f", $2, $3, $5}' bench/out/$f.csv)")"
		done
		echo "$row"
	done
	echo
	echo "at recall@10 >= 0.99: the highest QPS of any ef with that recall, and its ratio to hnswlib's"
	best99() { awk -F, '$1 ~ /^[0-9]+$/ && $2 >= 0.99 && $3 > q {q = $3; e = $1; r = $2} END {printf "%.1f %s %s", q, e, r}' "$1"; }
	read -r libq libe libr <<<"$(best99 bench/out/hnsw_hnswlib.csv)"
	printf '  %-32s %8.1f QPS (ef %s, recall %s)\n' "hnswlib in-process" "$libq" "$libe" "$libr"
	for f in hnsw_sql hnsw_sql_sq8 hnsw_sql_halfvec hnsw_sql_cache hnsw_sql_sq8_cache \
		hnsw_sql_halfvec_cache hnsw_sql_inline_cache hnsw_sql_sq8_inline_cache; do
		read -r q e r <<<"$(best99 bench/out/$f.csv)"
		printf '  %-32s %8.1f QPS (ef %s, recall %s)  %.2fx\n' "${f#hnsw_}" "$q" "$e" "$r" "$(echo "$q / $libq" | bc -l)"
	done
	grep -h '^# graph copy' bench/out/hnsw_sql_cache.csv bench/out/hnsw_sql_sq8_cache.csv \
		bench/out/hnsw_sql_halfvec_cache.csv bench/out/hnsw_sql_inline_cache.csv \
		bench/out/hnsw_sql_sq8_inline_cache.csv || true
} | tee "$out"

/usr/bin/python3 bench/hnsw_plot.py bench/out/hnsw.png \
	"vecx SQL vector=bench/out/hnsw_sql.csv" \
	"vecx SQL vector sq8=bench/out/hnsw_sql_sq8.csv" \
	"vecx SQL halfvec=bench/out/hnsw_sql_halfvec.csv" \
	"vecx SQL vector + copy=bench/out/hnsw_sql_cache.csv" \
	"vecx SQL vector sq8 + copy=bench/out/hnsw_sql_sq8_cache.csv" \
	"vecx SQL halfvec + copy=bench/out/hnsw_sql_halfvec_cache.csv" \
	"vecx SQL inline vector + copy=bench/out/hnsw_sql_inline_cache.csv" \
	"vecx SQL inline sq8 + copy=bench/out/hnsw_sql_sq8_inline_cache.csv" \
	"hnswlib in-process=bench/out/hnsw_hnswlib.csv"
echo "plot: bench/out/hnsw.png"
