#!/usr/bin/env bash
# gpu.sh: ivfpq build time on the CPU against the GPU (vecx.gpu = off / on)
# on generated data: 1,000,000 x 128 float32 rows around 1,000 random
# centres (deterministic, setseed), CREATE INDEX ... USING ivfpq WITH
# (lists = 1000, pq_m = 16), no parallel workers so that the two builds do
# the same work on one CPU core or one device.  Under on the device does
# the k-means assignment and centroid update (coarse quantizer and PQ
# training) and the PQ encoding of every row (README, "GPU").  Also
# reports how many of the 10 nearest neighbours of 200 queries the two
# indexes agree on.  VECX_BENCH_PORT picks the cluster's port.
#
# Needs a machine with an NVIDIA GPU, its driver and nvcc: on any other it
# says what is missing and exits 0 without measuring (vecx_gpu_info()).
#
#   bench/gpu.sh [rows]          (default 1000000)
# Results: bench/out/gpu.txt
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

rows=${1:-1000000}
if ! command -v nvcc >/dev/null; then
	echo "gpu.sh: no nvcc on PATH: vecx_gpu.so cannot be built, nothing to compare"
	exit 0
fi
vecx_need_pkgs $VECX_BASE_PKGS
vecx_build_install WITH_CUDA=1
mkdir -p bench/out
out=bench/out/gpu.txt

work=$(mktemp -d /tmp/vecx-bench.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir" "${VECX_BENCH_PORT:-}"
bindir=$("$PG_CONFIG" --bindir)
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }

psql_ -c 'CREATE EXTENSION vecx'
info=$(psql_ -tA -c "SELECT string_agg(coalesce(name || ' (compute capability ' || compute_capability || ', ' || total_memory / 1048576 || ' MB)', status), '; ') FROM vecx_gpu_info()")
if [ -z "$(psql_ -tA -c 'SELECT 1 FROM vecx_gpu_info() WHERE device IS NOT NULL LIMIT 1')" ]; then
	echo "gpu.sh: no usable GPU on this machine ($info): nothing to compare, no numbers written"
	exit 0
fi

log "generating $rows x 128 rows"
psql_ <<SQL
SELECT setseed(0.42);
CREATE TABLE centres AS SELECT c, array(SELECT random() * 4 - 2 FROM generate_series(1, 128)) AS x
	FROM generate_series(0, 999) c;
CREATE TABLE g (id int, v vector(128)) WITH (autovacuum_enabled = off);
INSERT INTO g SELECT i, (SELECT array_agg(x[j] + (random() - 0.5) * 0.6 ORDER BY j)
		FROM generate_series(1, 128) j)::vector
	FROM generate_series(1, $rows) i JOIN centres ON c = i % 1000;
CREATE TABLE q AS SELECT id AS qid, v FROM g WHERE id % ($rows / 200) = 0;
VACUUM ANALYZE g;
SQL

build() {
	local mode=$1 start end
	start=$(date +%s.%N)
	psql_ -c "SET vecx.gpu = $mode" -c 'SET max_parallel_maintenance_workers = 0' \
		-c "SET maintenance_work_mem = '4GB'" \
		-c "CREATE INDEX g_$mode ON g USING ivfpq (v vector_l2_ops) WITH (lists = 1000, pq_m = 16)"
	end=$(date +%s.%N)
	echo "$end - $start" | bc
}
answers() {
	psql_ -tA -c 'SET enable_seqscan = off' -c 'SET ivfpq.probes = 10' -c "
		SELECT string_agg(qid || ':' || array(SELECT id FROM g ORDER BY g.v <-> q.v LIMIT 10)::text, E'\n' ORDER BY qid) FROM q"
}

log "build with vecx.gpu = off"
cpu_s=$(build off)
answers >"$work/cpu.txt"
psql_ -c 'DROP INDEX g_off'
log "build with vecx.gpu = on"
gpu_s=$(build on)
answers >"$work/gpu.txt"

agree=$(paste -d '\n' "$work/cpu.txt" "$work/gpu.txt" | python3 -c '
import sys, re
lines = sys.stdin.read().split("\n")
same = total = 0
for a, b in zip(lines[0::2], lines[1::2]):
    sa = set(re.findall(r"\d+", a)[1:]); sb = re.findall(r"\d+", b)[1:]
    same += sum(1 for x in sb if x in sa); total += len(sa)
print("%d of %d" % (same, total))')

{
	echo "# ivfpq build, $rows x 128 generated rows (1,000 centres), lists = 1000, pq_m = 16, no parallel workers"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores; GPU: $info"
	printf '%-8s %12s\n' vecx.gpu build_s
	printf '%-8s %12.1f\n' off "$cpu_s"
	printf '%-8s %12.1f\n' on "$gpu_s"
	echo "# speed-up $(echo "scale=2; $cpu_s / $gpu_s" | bc)x; top-10 answers (probes = 10) agreeing: $agree"
} | tee "$out"
