#!/usr/bin/env bash
# filtered.sh: filtered nearest-neighbour search as applications run it.
#
# Default table storage (plain CREATE TABLE), default settings, one
# connection, every query sent by psycopg2 as SQL text with the vector and
# the label as literals (bench/filtered_bench.py).  Two workloads:
#
#   fmnist  Fashion-MNIST 60,000 x 784, L2, WHERE label = <the query image's
#           class>: 10%, correlated with the vectors (neighbours share the
#           query's class ~80% of the time).  hnsw (v) and hnsw (v, label);
#           plus, as a secondary figure, the old tuned setup of
#           bench/filtered_tuned.sh (toast_tuple_target = 8160, prepared
#           generic plans) for hnsw (v).
#   indep   generated rows (default 200,000 x 128, cosine, clustered), labels
#           drawn independently of the vectors with skewed frequencies from
#           20% down to 0.1%; WHERE label = c at 10%, 1% and 0.1%.
#           hnsw (v) with the filter on the table, the same with a btree on
#           label beside it (can the planner pick an exact plan?), and
#           hnsw (v, label).
#
# Each case: rows returned, recall@10 against the exact answer (sequential
# scan, computed before any index exists), "same" (share of queries answered
# with exactly the exact ids in exact order), QPS (wall, one client), cpuQPS
# (queries per second of server backend CPU, steadier on a busy machine),
# the ratio to the unfiltered query on the same index, and the plan.
#
#   bench/filtered.sh                      both workloads
#   VECX_FILTERED="indep" bench/filtered.sh   one of them
#   VECX_FILTERED="diag" bench/filtered.sh    where indep's recall goes: plain
#       and multicolumn hnsw at 10% and 1% under other settings
#       (exact_fallback, max_scan_tuples, ef_search, relaxed_order), and the
#       planner's index vs btree plans with their estimated and actual costs
#   VECX_FILTERED_ROWS=100000 VECX_FILTERED_DIMS=128
#   VECX_FILTERED_NQ=100 (queries per selectivity, indep)
#   VECX_FILTERED_FMNIST_NQ=200 (queries, fmnist)
# Results: bench/out/filtered.txt
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

what=${VECX_FILTERED:-fmnist indep}
rows=${VECX_FILTERED_ROWS:-200000}
dims=${VECX_FILTERED_DIMS:-128}
nq=${VECX_FILTERED_NQ:-100}
fmnq=${VECX_FILTERED_FMNIST_NQ:-200}
py=/usr/bin/python3
vecx_need_pkgs $VECX_BASE_PKGS python3-psycopg2 python3-numpy
vecx_build_install
mkdir -p bench/out
out=bench/out/filtered.txt

work=$(mktemp -d /tmp/vecx-bench.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir"
bindir=$("$PG_CONFIG" --bindir)
"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION vecx'
gcc -O2 -o "$work/fmnist" bench/fmnist.c

{
	echo "# filtered search through SQL, default settings (hnsw.ef_search 40, iterative_scan strict_order,"
	echo "# max_scan_tuples 20000, exact_fallback on), default table storage, literal queries (psycopg2), one client"
	echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
case " $what " in *" fmnist "*)
	echo | tee -a "$out"
	$py bench/filtered_bench.py fmnist "$work/fmnist" "$fmnq" | tee -a "$out" ;;
esac
case " $what " in *" indep "*)
	echo | tee -a "$out"
	$py bench/filtered_bench.py indep "$rows" "$dims" "$nq" | tee -a "$out" ;;
esac
case " $what " in *" diag "*)
	echo | tee -a "$out"
	$py bench/filtered_bench.py diag "$rows" "$dims" "$nq" | tee -a "$out" ;;
esac
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
