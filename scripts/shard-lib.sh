# shard-lib.sh: shell functions shared by scripts/shard-demo.sh and
# bench/shards.sh (sourced after scripts/lib.sh, not run): throwaway shard
# clusters and a coordinator on this machine, the items table on each,
# the coordinator's hash-partitioned table of postgres_fdw foreign tables,
# Fashion-MNIST rows (or generated ones), index builds on every shard at
# once.  See docs/scale-out.md.
#
# The caller sets:
#   work        a directory owned by the caller (mktemp -d), mode 755
#   rows, nq    rows to load, query vectors
#   port_base   empty (random ports) or the first of fixed ports
# and gets from shard_init: bindir, dim, data (a description), gen_rows
# and gen_queries (COPY text: id, tenant (50 tenants), label, vector),
# table_sql (the columns), the associative array port (node -> port).

# shard_init: check postgres_fdw, choose the data.
shard_init() {
	local fmnist_dir=${VECX_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
	bindir=$("$PG_CONFIG" --bindir)
	if [ ! -f "$("$PG_CONFIG" --pkglibdir)/postgres_fdw.so" ] ||
		[ ! -f "$("$PG_CONFIG" --sharedir)/extension/postgres_fdw.control" ]; then
		log "postgres_fdw is not installed for $bindir"
		return 1
	fi
	declare -gA port
	shard_port_next=0
	if [ -f "$fmnist_dir/train-images-idx3-ubyte.gz" ]; then
		gcc -O2 -o "$work/fmnist" bench/fmnist.c
		data=fashion-mnist
		shard_fmnist_dir=$fmnist_dir
		dim=784
		_shard_gen() { "$work/fmnist" "$@" --dir "$shard_fmnist_dir" | awk -F'\t' -v OFS='\t' '{ print $1, $1 % 50, $2, $3 }'; }
		gen_rows() { _shard_gen train "$rows"; }
		gen_queries() { _shard_gen test "$nq"; }
	else
		data="generated (no $fmnist_dir)"
		dim=128
		_shard_gen() {
			awk -v n="$1" -v seed="$2" -v d=$dim 'BEGIN { srand(seed); for (i = 1; i <= n; i++) {
				s = "["; for (j = 0; j < d; j++) s = s (j ? "," : "") int(rand() * 256); printf "%d\t%d\t%d\t%s]\n", i, i % 50, i % 10, s } }'
		}
		gen_rows() { _shard_gen "$rows" 1; }
		gen_queries() { _shard_gen "$nq" 2; }
	fi
	table_sql="id int NOT NULL, tenant int NOT NULL, label int NOT NULL, embedding vector($dim) NOT NULL"
}

# shard_start NODE...: start a cluster per node under $work/NODE.
shard_start() {
	local n
	for n in "$@"; do
		vecx_start_cluster "$work/$n" ${port_base:+$((port_base + shard_port_next))}
		port[$n]=$PGPORT
		shard_port_next=$((shard_port_next + 1))
	done
	unset PGHOST PGPORT PGDATA
}

# shard_stop NODE...: stop the nodes' clusters and remove their files.
shard_stop() {
	local n
	for n in "$@"; do
		[ -d "$work/$n/data" ] || continue
		vecx_stop_cluster "$work/$n"
		rm -rf "${work:?}/$n"
	done
}

# psql_ NODE ARGS...: psql on a node's database postgres.
psql_() {
	local n=$1
	shift
	"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$work/$n" -p "${port[$n]}" -U postgres -d postgres "$@"
}

elapsed() { echo "$(date +%s.%N) - $1" | bc; }

# shard_items NODE...: vecx and an empty items table on each node.
shard_items() {
	local n
	for n in "$@"; do
		psql_ "$n" -c "CREATE EXTENSION vecx" \
			-c "CREATE TABLE items ($table_sql, PRIMARY KEY (id)) WITH (toast_tuple_target = 8160)"
	done
}

# shard_coordinator COORD SHARD...: on COORD, one foreign server per shard
# and items partitioned by hash of tenant over them.  extensions 'vecx'
# lets postgres_fdw ship vecx's operators (<->, ...) to the shards;
# async_capable lets an Append ask all shards at once; fetch_size is how
# many rows one FETCH of the shard's cursor returns: with k = 10, each
# shard sends at most the 10 rows a top-10 can use.
shard_coordinator() {
	local coord=$1 i=0 s
	shift
	{
		echo "CREATE EXTENSION vecx;"
		echo "CREATE EXTENSION postgres_fdw;"
		echo "CREATE TABLE items ($table_sql) PARTITION BY HASH (tenant);"
		for s in "$@"; do
			cat <<SQL
CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host '$work/$s', port '${port[$s]}', dbname 'postgres',
			 extensions 'vecx', async_capable 'true', fetch_size '10', batch_size '100');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i OPTIONS (user 'postgres');
CREATE FOREIGN TABLE items_shard$i PARTITION OF items
	FOR VALUES WITH (MODULUS $#, REMAINDER $i)
	SERVER shard$i OPTIONS (table_name 'items');
SQL
			i=$((i + 1))
		done
	} | psql_ "$coord"
}

# shard_server_options COORD NSHARDS OPTS: the options (settings for the
# shard sessions, e.g. '-c hnsw.ef_search=100') of the coordinator's
# foreign servers shard0..; empty OPTS: none.  New coordinator sessions
# use them.
shard_server_options() {
	local coord=$1 n=$2 opts=$3 i
	for ((i = 0; i < n; i++)); do
		psql_ "$coord" -c "ALTER SERVER shard$i OPTIONS (DROP options)" 2>/dev/null || true
		[ -z "$opts" ] || psql_ "$coord" -c "ALTER SERVER shard$i OPTIONS (ADD options '$opts')"
	done
}

# shard_build NODE...: an hnsw index on items of every node at once; prints
# the wall-clock seconds of the builds; then VACUUM ANALYZE on each.
shard_build() {
	local n pids=() start t
	start=$(date +%s.%N)
	for n in "$@"; do
		psql_ "$n" -c "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops)" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n"; done
	t=$(elapsed "$start")
	pids=()
	for n in "$@"; do
		psql_ "$n" -c "VACUUM ANALYZE items" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n"; done
	echo "$t"
}

# shard_per_shard_sql Q NSHARDS: the top-10 written as one LIMIT per shard
# against the partitions items_shard0..: postgres_fdw pushes the LIMIT into
# each remote query (a single foreign table), and the Append over the
# subqueries runs them asynchronously (the "+ 0" keeps the planner from
# merging the sorted subqueries with a Merge Append, which cannot).
shard_per_shard_sql() {
	local i sep=""
	printf 'SELECT id FROM ('
	for ((i = 0; i < $2; i++)); do
		printf '%s(SELECT id, embedding <-> %s AS d FROM items_shard%d ORDER BY embedding <-> %s LIMIT 10)' "$sep" "$1" "$i" "$1"
		sep=" UNION ALL "
	done
	printf ') s ORDER BY d + 0 LIMIT 10'
}
