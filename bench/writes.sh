#!/usr/bin/env bash
# writes.sh: the write path of an hnsw index on Fashion-MNIST.
#
# 60,000 training images in a plain table (id int primary key, label int,
# v vector(784), default storage) with a default hnsw index (L2), under
# maintenance_work_mem = 64MB and shared_buffers = 128MB (the defaults):
#   - DELETE 10% (id % 10 = 3), VACUUM: time, peak private memory of the
#     vacuuming backend (max RssAnon sampled every 20 ms, and VmHWM -
#     RssShmem - RssFile at the end: see test/tap/017), recall@10 at
#     hnsw.ef_search = 40 against the exact answer for the first
#     WRITES_QUERIES test images (default 300; the exact answer is
#     computed on an uncompressed copy of the table);
#   - DELETE up to 50% (id % 10 in 0, 1, 2, 4), the same;
#   - single-row inserts through pgbench (2 clients, one row per
#     transaction, a random test image each): rows/s;
#   - INSERT ... SELECT of 100,000 rows into an empty table with an hnsw
#     index: time.
# With pgvector installed (its vector.control next to vecx's) the same runs
# beside it in a database of its own.
#
#   bench/writes.sh        results: bench/out/writes.txt
#   WRITES_SECONDS=30      pgbench duration (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

vecx_need_pkgs $VECX_BASE_PKGS
vecx_build_install
mkdir -p bench/out
out=bench/out/writes.txt
secs=${WRITES_SECONDS:-30}
nq=${WRITES_QUERIES:-300}

work=$(mktemp -d /tmp/vecx-bench.XXXXXX)
chmod 755 "$work"
cluster_dir=$work/cluster
trap 'vecx_stop_cluster "$cluster_dir"; rm -rf "$work"' EXIT
vecx_start_cluster "$cluster_dir"
bindir=$("$PG_CONFIG" --bindir)
cat >>"$PGDATA/postgresql.conf" <<CONF
shared_buffers = 128MB
maintenance_work_mem = 64MB
max_parallel_maintenance_workers = 2
autovacuum = off
CONF
vecx_as_pg "'$bindir/pg_ctl' -D '$PGDATA' -l '$cluster_dir/server.log' -w restart >/dev/null"

gcc -O2 -o "$work/fmnist" bench/fmnist.c
"$work/fmnist" train >"$work/train.tsv"
"$work/fmnist" test "$nq" >"$work/test.tsv"
chmod 644 "$work"/*.tsv

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

# vacuum_measured DB: VACUUM items in its own session, without a parallel
# worker (else the index may be vacuumed in a process not sampled); prints
# "seconds peak_private_kB"
vacuum_measured() {
	local db=$1 pid peak=0 m start
	"$bindir/psql" -XAtq -d "$db" >"$work/vac.out" 2>&1 <<SQL &
SELECT pg_backend_pid() \g $work/vac.pid
SET max_parallel_maintenance_workers = 0;
VACUUM items;
SELECT pg_read_file('/proc/self/status');
SQL
	local bg=$!
	while [ ! -s "$work/vac.pid" ]; do sleep 0.01; done
	pid=$(cat "$work/vac.pid")
	start=$(now)
	while kill -0 $bg 2>/dev/null; do
		m=$(awk '/^RssAnon/ {print $2}' /proc/$pid/status 2>/dev/null || true)
		[ -n "$m" ] && [ "$m" -gt "$peak" ] && peak=$m
		sleep 0.02
	done
	wait $bg
	local t
	t=$(since "$start")
	m=$(awk '/^VmHWM/ {h=$2} /^RssShmem/ {s=$2} /^RssFile/ {f=$2} END {print h - s - f}' "$work/vac.out")
	[ "$m" -gt "$peak" ] && peak=$m
	rm -f "$work/vac.pid"
	printf '%.2f %d\n' "$t" "$peak"
}

# recall DB: recall@10 at ef_search 40 against the exact answer
recall() {
	"$bindir/psql" -XAtq -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
CREATE TEMP TABLE plain (id int, v vector(784));
ALTER TABLE plain ALTER v SET STORAGE PLAIN;
INSERT INTO plain SELECT id, v FROM items;
CREATE TEMP TABLE gt AS SELECT q.id AS qid, s.id AS tid FROM q,
	LATERAL (SELECT id FROM plain t ORDER BY t.v <-> q.v LIMIT 10) s;
SET enable_indexscan = on; SET enable_seqscan = off; SET hnsw.ef_search = 40;
CREATE TEMP TABLE res AS SELECT q.id AS qid, s.id AS tid FROM q,
	LATERAL (SELECT id FROM items t ORDER BY t.v <-> q.v LIMIT 10) s;
SELECT round(count(*)::numeric / (SELECT count(*) FROM gt), 4) FROM gt JOIN res USING (qid, tid);
SQL
}

run_suite() {
	local db=$1 ext=$2 start t
	local psql_=("$bindir/psql" -XAtq -v ON_ERROR_STOP=1 -d "$db")
	"$bindir/createdb" "$db"
	"${psql_[@]}" <<SQL
CREATE EXTENSION $ext;
CREATE TABLE items (id int PRIMARY KEY, label int, v vector(784));
CREATE TABLE q (id int PRIMARY KEY, label int, v vector(784));
\copy items FROM '$work/train.tsv'
\copy q FROM '$work/test.tsv'
VACUUM ANALYZE items;
SQL
	start=$(now)
	"${psql_[@]}" -c 'CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops)' 2>/dev/null
	echo "$db: build $(printf '%.1f' "$(since "$start")") s, index $("${psql_[@]}" -c "SELECT pg_size_pretty(pg_relation_size('items_v'))")"
	echo "$db: recall@10 (ef_search 40) before deletes: $(recall "$db")"

	"${psql_[@]}" -c 'DELETE FROM items WHERE id % 10 = 3'
	read -r t m < <(vacuum_measured "$db")
	echo "$db: VACUUM after 10% deleted: $t s, peak private memory $((m / 1024)) MB, recall@10 $(recall "$db")"
	"${psql_[@]}" -c 'DELETE FROM items WHERE id % 10 IN (0, 1, 2, 4)'
	read -r t m < <(vacuum_measured "$db")
	echo "$db: VACUUM after 50% deleted: $t s, peak private memory $((m / 1024)) MB, recall@10 $(recall "$db")"

	# single-row inserts of random test images, ids above the table's
	"${psql_[@]}" -c 'CREATE SEQUENCE ins_id START 1000001'
	cat >"$work/insert.sql" <<'SQL'
\set qid random(1, 1000)
INSERT INTO items SELECT nextval('ins_id'), label, v FROM q WHERE id = :qid;
SQL
	"$bindir/pgbench" -n -c 2 -j 2 -T "$secs" -f "$work/insert.sql" "$db" >"$work/pgbench.out" 2>&1
	echo "$db: single-row inserts (pgbench, 2 clients, ${secs} s): $(awk '/^tps/ {printf "%.0f", $3}' "$work/pgbench.out") rows/s"

	"${psql_[@]}" <<'SQL'
CREATE TABLE bulk (id int PRIMARY KEY, label int, v vector(784));
CREATE INDEX bulk_v ON bulk USING hnsw (v vector_l2_ops);
SQL
	start=$(now)
	"${psql_[@]}" -c 'INSERT INTO bulk SELECT g * 60000 + id, label, v FROM items, generate_series(0, 3) g
		WHERE id <= 60000 ORDER BY g, id LIMIT 100000'
	echo "$db: INSERT ... SELECT of $("${psql_[@]}" -c 'SELECT count(*) FROM bulk') rows into an indexed table: $(printf '%.1f' "$(since "$start")") s"
}

{
	echo "writes.sh $(date -u +%FT%TZ), $(nproc) cores, vecx $(git rev-parse --short HEAD)"
	run_suite vecx_db vecx
	ref_ctl="$("$PG_CONFIG" --sharedir)/extension/vector.control"
	# vecx installed under the vector name (make install-vector-name) is
	# not the reference: its control file loads vecx's library
	if [ -f "$ref_ctl" ] && ! grep -q "^module_pathname = '\$libdir/vecx'" "$ref_ctl"; then
		run_suite ref_db vector
	else
		echo "reference (pgvector) not installed: not run"
	fi
} | tee "$out"
