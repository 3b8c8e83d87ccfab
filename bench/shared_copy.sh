#!/usr/bin/env bash
# shared_copy.sh: hnsw QPS of concurrent clients with a shared graph copy
# (vecx preloaded, hnsw.shared_cache_size), with a copy per backend
# (hnsw.cache_size) and with none, on Fashion-MNIST (60,000 x 784, the
# default TOASTed table, L2, k = 10, ef_search 40, m 16, ef_construction 64).
#
#   PG_CONFIG=... bench/shared_copy.sh [--clients N] [--secs S] [--port P]
#
# Uses vecx as installed in $PG_CONFIG's server; starts its own cluster on
# port P (default 25499).  Each configuration restarts the server, warms
# up for S/2 seconds (so the copies are taken) and runs pgbench -M prepared
# with N clients (default 2) for S seconds (default 20) on 1,000 test
# images chosen at random.  Results: bench/out/shared_copy.txt
set -euo pipefail
cd "$(dirname "$0")/.."

clients=2
secs=20
port=25499
while [ $# -gt 0 ]; do
	case "$1" in
		--clients) clients=$2; shift 2 ;;
		--secs) secs=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		*) echo "usage: bench/shared_copy.sh [--clients N] [--secs S] [--port P]" >&2; exit 2 ;;
	esac
done
: "${PG_CONFIG:?set PG_CONFIG}"
bindir=$("$PG_CONFIG" --bindir)
mkdir -p bench/out
out=bench/out/shared_copy.txt
work=$(mktemp -d /tmp/vecx-shcopy.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else bash -c "$*"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$work"; fi
cleanup() {
	as_pg "'$bindir/pg_ctl' -D '$work/data' -m immediate stop" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
psql_() { as_pg "'$bindir/psql' -X -q -v ON_ERROR_STOP=1 -h '$work' -p $port -U postgres -d postgres $*"; }

gcc -O2 -o "$work/fmnist" bench/fmnist.c
as_pg "'$bindir/initdb' -D '$work/data' -A trust" >/dev/null
cat >>"$work/data/postgresql.conf" <<EOF
port = $port
unix_socket_directories = '$work'
shared_buffers = 1GB
max_wal_size = 4GB
maintenance_work_mem = 1GB
shared_preload_libraries = 'vecx'
EOF
start() { as_pg "'$bindir/pg_ctl' -D '$work/data' -l '$work/log' -w start" >/dev/null; }
stop() { as_pg "'$bindir/pg_ctl' -D '$work/data' -w stop" >/dev/null; }
start
psql_ -c "'CREATE EXTENSION vecx'"
psql_ -c "'CREATE TABLE fm (id int, label int, v vector(784))'"
psql_ -c "'CREATE TABLE fmq (id int, label int, v vector(784))'"
"$work/fmnist" train | psql_ -c "'\\copy fm FROM STDIN'"
"$work/fmnist" test 1000 | psql_ -c "'\\copy fmq FROM STDIN'"
t0=$(date +%s.%N)
psql_ -c "'CREATE INDEX fm_v ON fm USING hnsw (v vector_l2_ops)'"
build=$(echo "$(date +%s.%N) - $t0" | bc)
psql_ -c "'VACUUM ANALYZE fm'"
psql_ -c "'VACUUM ANALYZE fmq'"
cat >"$work/q.sql" <<'EOF'
\set q random(1, 1000)
SELECT id FROM fm ORDER BY v <-> (SELECT v FROM fmq WHERE id = :q) LIMIT 10;
EOF
chmod 644 "$work/q.sql"

{
	echo "# Fashion-MNIST 60,000 x 784 default table, L2, k=10, ef_search 40, pgbench -M prepared,"
	echo "# $clients clients, ${secs}s per run after a $((secs / 2))s warm-up; build ${build}s; $(date -u +%F) $(nproc) cores"
	echo "config,tps,shared_copy_bytes"
} | tee "$out"
for config in shared backend none; do
	stop
	sed -i '/^hnsw\./d' "$work/data/postgresql.conf"
	case $config in
		shared) ;;	# the default hnsw.shared_cache_size
		backend) printf "hnsw.shared_cache_size = 0\nhnsw.cache_size = '512MB'\n" >>"$work/data/postgresql.conf" ;;
		none) printf "hnsw.shared_cache_size = 0\nhnsw.cache_size = 0\n" >>"$work/data/postgresql.conf" ;;
	esac
	start
	as_pg "'$bindir/pgbench' -n -M prepared -h '$work' -p $port -U postgres -c $clients -j $clients -T $((secs / 2)) -f '$work/q.sql' postgres" >/dev/null
	tps=$(as_pg "'$bindir/pgbench' -n -M prepared -h '$work' -p $port -U postgres -c $clients -j $clients -T $secs -f '$work/q.sql' postgres" |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	bytes=$(psql_ -At -c "'SELECT coalesce(sum(bytes), 0) FROM vecx_hnsw_shared_cache_status()'")
	echo "$config,$tps,$bytes" | tee -a "$out"
done
