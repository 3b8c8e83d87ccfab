#!/usr/bin/env bash
# compare.sh: two revisions of vecx side by side, in one run.
#
# Builds and installs each revision in turn into $PG_CONFIG's server, starts
# a fresh cluster for it, loads Fashion-MNIST (60,000 x 784, a plain
# CREATE TABLE) and measures, with default settings and text-literal queries
# from one psql client (1,000 test images, k = 10, L2):
#   hnsw    CREATE INDEX (m 16, ef_construction 64): wall and backend CPU;
#           recall@10 and QPS at hnsw.ef_search 20, 40 and 80
#   ivfpq   CREATE INDEX (lists 256, other options default); recall@10 and
#           QPS at ivfpq.probes 8
# The revisions alternate (A B A B ... for --rounds N, default 2), so drift
# in the machine's load falls on both.  QPS cpu is 1,000 / (backend + client
# CPU seconds): less sensitive to other load than QPS wall.
#
#   bench/compare.sh [--rounds N] REV_A REV_B
# Results: bench/out/compare.txt
#
# It replaces the installed vecx: do not run it beside tests that use the
# same server installation.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh

rounds=2
if [ "${1:-}" = --rounds ]; then
	rounds=$2
	shift 2
fi
if [ $# -ne 2 ]; then
	echo "usage: bench/compare.sh [--rounds N] REV_A REV_B" >&2
	exit 2
fi
rev_a=$(git rev-parse --short "$1")
rev_b=$(git rev-parse --short "$2")

vecx_need_pkgs $VECX_BASE_PKGS python3-faiss
py=/usr/bin/python3
mkdir -p bench/out
out=bench/out/compare.txt

work=$(mktemp -d /tmp/vecx-compare.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
cleanup() {
	vecx_stop_cluster "$cluster_dir" 2>/dev/null || true
	for r in "$rev_a" "$rev_b"; do
		git worktree remove --force "$work/src-$r" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
bindir=$("$PG_CONFIG" --bindir)
psql_() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }

gcc -O2 -o "$work/fmnist" bench/fmnist.c
log "ground truth"
$py bench/ivfpq_bench.py prepare "$work/fmnist" "$work"

for r in "$rev_a" "$rev_b"; do
	git worktree add -q --detach "$work/src-$r" "$r"
done

# build_row REV NAME SQL: time one CREATE INDEX
build_row() {
	local rev=$1 name=$2 sql=$3 cpu wall
	echo "$sql" >"$work/build.sql"
	read -r cpu _ wall < <(vecx_backend_cpu "$work/build.sql" /dev/null)
	printf '%s,%s,build,,%.2f,%.2f\n' "$rev" "$name" "$wall" "$cpu" >>"$work/results.csv"
}

# query_row REV NAME SETTING: run the 1,000 queries under SETTING
query_row() {
	local rev=$1 name=$2 setting=$3 cpu client wall rec
	(echo "SET $setting;"; head -100 "$work/queries.sql") | psql_ -tA >/dev/null
	(echo "SET $setting;"; cat "$work/queries.sql") >"$work/run.sql"
	read -r cpu client wall < <(vecx_backend_cpu "$work/run.sql" "$work/res.txt")
	rec=$($py bench/ivfpq_bench.py recall "$work" "$work/res.txt")
	printf '%s,%s,%s,%s,%.1f,%.1f\n' "$rev" "$name" "$setting" "$rec" \
		"$(echo "1000 / $wall" | bc -l)" "$(echo "1000 / ($cpu + $client)" | bc -l)" \
		>>"$work/results.csv"
}

one_rev() {
	local rev=$1
	log "round $round: $rev"
	(cd "$work/src-$rev" && vecx_build_install >/dev/null)
	vecx_start_cluster "$cluster_dir"
	psql_ -c 'CREATE EXTENSION vecx' -c 'CREATE TABLE fm (id int, label int, v vector(784))'
	"$work/fmnist" train | psql_ -c '\copy fm FROM STDIN'
	psql_ -c 'VACUUM ANALYZE fm'
	build_row "$rev" hnsw 'CREATE INDEX fm_hnsw ON fm USING hnsw (v vector_l2_ops);'
	for ef in 20 40 80; do
		query_row "$rev" hnsw "hnsw.ef_search = $ef"
	done
	psql_ -c 'DROP INDEX fm_hnsw'
	build_row "$rev" ivfpq 'CREATE INDEX fm_ivfpq ON fm USING ivfpq (v vector_l2_ops) WITH (lists = 256);'
	query_row "$rev" ivfpq "ivfpq.probes = 8"
	vecx_stop_cluster "$cluster_dir"
	rm -rf "$cluster_dir"
}

: >"$work/results.csv"
for round in $(seq 1 "$rounds"); do
	one_rev "$rev_a"
	one_rev "$rev_b"
done
cp "$work/results.csv" bench/out/compare.csv

{
	echo "# compare: A = $rev_a ($(git log -1 --format=%s "$rev_a" | cut -c1-60))"
	echo "#          B = $rev_b ($(git log -1 --format=%s "$rev_b" | cut -c1-60))"
	echo "# Fashion-MNIST 60,000 x 784 plain table, L2, k=10, 1,000 text-literal queries, one client, default settings"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds, A and B alternating"
	echo "# build rows: wall s and backend CPU s; query rows: recall@10, QPS wall, QPS cpu"
	printf '%-9s %-6s %-22s %9s %9s %9s\n' rev index setting recall 'wall|QPS' 'cpu|QPS'
	awk -F, '{printf "%-9s %-6s %-22s %9s %9s %9s\n", $1, $2, $3, $4, $5, $6}' "$work/results.csv"
} | tee "$out"
