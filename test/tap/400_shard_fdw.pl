# 400_shard_fdw.pl: scale-out with PostgreSQL's own sharding
# (docs/scale-out.md): three shard nodes and a coordinator whose table of
# 30,000 Fashion-MNIST rows is partitioned by hash of tenant into
# postgres_fdw foreign tables (server option extensions 'vecx').  Rows
# inserted through the coordinator land on their shard; the top-10 through
# the coordinator equals the exact top-10 of the same rows in one local
# table when the shards scan exactly (no index, or indexes switched off
# through the servers' options); the remote SQL carries the ORDER BY with
# vecx's operator and the filters; each shard's cursor runs its hnsw index
# scan (recall@10 >= 0.95, and more with hnsw.ef_search raised through the
# servers' options), then its ivfpq index scan; rows inserted through the
# coordinator after the builds are found through the shards' indexes; a
# stopped shard makes the query fail instead of returning fewer rows.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $nrows = 30000;
my $nq = 20;
my $nshards = 3;
my @ids = (0 .. $nshards - 1);

my $coord = vecx_node('coord');
if ($coord->safe_psql('postgres',
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'postgres_fdw'") ne '1')
{
	$coord->stop;
	plan skip_all => 'postgres_fdw is not installed';
}
my @shards = map { vecx_node("shard$_", conf => "maintenance_work_mem = 512MB") } @ids;

my $cols = 'id int NOT NULL, tenant int NOT NULL, label int NOT NULL, v vector(784) NOT NULL';
# Vectors in the heap page (as in scripts/shard-demo.sh): with the
# default TOASTed vector(784) a shard prices its sequential scan without
# the TOAST reads and may sort instead of scanning its ivfpq index.
$_->safe_psql('postgres', "CREATE TABLE items ($cols, PRIMARY KEY (id)) WITH (toast_tuple_target = 8160)") for @shards;

# The coordinator: fm holds every row locally (the single-node reference),
# items the same rows on the shards.
my $dir = PostgreSQL::Test::Utils::tempdir;
my $train = fmnist_tsv($dir, 'train', $nrows);
my $test = fmnist_tsv($dir, 'test', $nq);
my $setup = qq{
	CREATE EXTENSION postgres_fdw;
	CREATE TEMP TABLE raw (id int, label int, v vector(784));
	COPY raw FROM '$train';
	CREATE TABLE fm ($cols);
	INSERT INTO fm SELECT id, id % 20, label, v FROM raw;
	CREATE TABLE fq (id int, label int, v vector(784));
	COPY fq FROM '$test';
	ANALYZE fm;
	CREATE TABLE items ($cols) PARTITION BY HASH (tenant);
};
for my $i (@ids)
{
	my ($host, $port) = ($shards[$i]->host, $shards[$i]->port);
	$setup .= qq{
	CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
		OPTIONS (host '$host', port '$port', dbname 'postgres',
				 extensions 'vecx', async_capable 'true', fetch_size '10', batch_size '100');
	CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i;
	CREATE FOREIGN TABLE items_s$i PARTITION OF items FOR VALUES WITH (MODULUS $nshards, REMAINDER $i)
		SERVER shard$i OPTIONS (table_name 'items');
	};
}
# ANALYZE samples the shards: without statistics the coordinator thinks
# the partitions tiny and may fetch every row to sort it itself.
$setup .= "INSERT INTO items SELECT * FROM fm;\nANALYZE items;\n";
$coord->safe_psql('postgres', $setup);

# Writes: every row on exactly one shard, the one of its partition.
my @counts = map { $_->safe_psql('postgres', 'SELECT count(*) FROM items') } @shards;
my $sum = 0;
$sum += $_ for @counts;
is($sum, $nrows, 'every row inserted through the coordinator is on a shard');
is(scalar(grep { $_ > 0 } @counts), $nshards, 'every shard holds rows (' . join(', ', @counts) . ')');
my ($part, $id) = split /\|/, $coord->safe_psql('postgres',
	'SELECT tableoid::regclass, id FROM items WHERE id = 4242');
my ($s) = $part =~ /items_s(\d)/;
is(join(',', map { $_->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id = 4242') } @shards),
	join(',', map { $_ == $s ? 1 : 0 } @ids),
	"row 4242 is on the shard of its partition $part and on no other");

# Run sql on every shard at once (index builds), each through its own psql.
sub on_all_shards
{
	my ($sql) = @_;
	my @runs;
	for my $node (@shards)
	{
		my ($out, $err) = ('', '');
		push @runs, [ IPC::Run::start(
			[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $sql ],
			'>', \$out, '2>', \$err), \$err ];
	}
	for (@runs)
	{
		$_->[0]->finish;
		die "on a shard: $sql: ${ $_->[1] }" if $_->[0]->result(0);
	}
}

# Options of every shard's foreign server: settings for the shard sessions.
# Each safe_psql is a new coordinator session, so new shard connections.
sub shard_options
{
	my ($opts) = @_;
	$coord->safe_psql('postgres', join('', map {
		$opts eq '' ? "ALTER SERVER shard$_ OPTIONS (DROP options);"
		  : "DO \$\$BEGIN ALTER SERVER shard$_ OPTIONS (SET options '$opts');
			 EXCEPTION WHEN undefined_object THEN ALTER SERVER shard$_ OPTIONS (ADD options '$opts'); END\$\$;"
	} @ids));
}

# How many times re matches in text.
sub count_of
{
	my ($text, $re) = @_;
	my @m = $text =~ /$re/g;
	return scalar @m;
}

# Query vectors and per-query results, compared as "qid:id,id,..." lines.
sub answers
{
	my ($from, $where, $order) = @_;
	$where = $where ? "WHERE $where" : '';
	return $coord->safe_psql('postgres', qq{
		SELECT string_agg(q.id || ':' || r.ids, E'\n' ORDER BY q.id) FROM fq q,
			LATERAL (SELECT string_agg(id::text, ',') AS ids FROM
				(SELECT t.id FROM $from t $where ORDER BY $order LIMIT 10) s) r});
}

# Exact: ordering by (distance, id) is deterministic and the shards sort.
my $exact = answers('fm', '', 't.v <-> q.v, t.id');
is(answers('items', '', 't.v <-> q.v, t.id'), $exact,
	"top-10 through the coordinator equals the single-node exact top-10 ($nq queries)");
my $exact_tenant = answers('fm', 't.tenant = q.id % 20', 't.v <-> q.v, t.id');
is(answers('items', 't.tenant = q.id % 20', 't.v <-> q.v, t.id'), $exact_tenant,
	'so does the top-10 of one tenant');
is(answers('items', 't.label = 2', 't.v <-> q.v, t.id'),
	answers('fm', 't.label = 2', 't.v <-> q.v, t.id'),
	'and of one label');

my $q = $coord->safe_psql('postgres', 'SELECT v FROM fq ORDER BY id LIMIT 1');

# The plans: remote SQL with vecx's operator in the ORDER BY, filters shipped.
my $plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items ORDER BY v <-> '$q' LIMIT 10");
like($plan, qr/Merge Append/, 'the coordinator merges the shards');
like($plan, qr/Remote SQL: SELECT id, v FROM public\.items ORDER BY \(v OPERATOR\(public\.<->\) '\[[0-9,]+\]'\) ASC NULLS LAST/,
	'the remote SQL orders by the distance operator');
is(count_of($plan, qr/Foreign Scan on public\.items_s\d/), $nshards, 'on every shard');

$plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items WHERE tenant = 3 ORDER BY v <-> '$q' LIMIT 10");
like($plan, qr/Remote SQL: SELECT id, v FROM public\.items WHERE \(\(tenant = 3\)\) ORDER BY \(v OPERATOR\(public\.<->\)/,
	'a tenant filter is in the remote SQL');
is(count_of($plan, qr/Foreign Scan on/), 1, 'and partition pruning leaves one shard');
$plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items WHERE label = ANY ('{2,3}') AND id > 100 ORDER BY v <-> '$q' LIMIT 10");
is(count_of($plan, qr/Remote SQL: SELECT id, v FROM public\.items WHERE \(\(label = ANY \('\{2,3\}'::integer\[\]\)\)\) AND \(\(id > 100\)\) ORDER BY/),
	$nshards, 'filters on other columns go to every shard');

# One LIMIT per shard: postgres_fdw pushes it into each remote query, and
# the Append runs the shards asynchronously.
my $per_shard = join(' UNION ALL ',
	map { "(SELECT id, v <-> '$q' AS d FROM items_s$_ ORDER BY v <-> '$q' LIMIT 10)" } @ids);
$plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM ($per_shard) s ORDER BY d + 0 LIMIT 10");
is(count_of($plan, qr/Async Foreign Scan.*\n.*\n.*Remote SQL: .* ORDER BY \(v OPERATOR\(public\.<->\) .* LIMIT 10::bigint/),
	$nshards, 'a LIMIT per shard is pushed down and the shards run asynchronously');

# CREATE INDEX on the coordinator's table does not reach the shards: the
# foreign partitions are skipped.
$coord->safe_psql('postgres', 'CREATE INDEX items_coord_v ON items USING hnsw (v vector_l2_ops)');
is(join(',', map { $_->safe_psql('postgres', "SELECT count(*) FROM pg_indexes WHERE tablename = 'items' AND indexdef LIKE '%hnsw%'") } @shards),
	join(',', (0) x $nshards), 'CREATE INDEX on the coordinator builds nothing on the shards');
$coord->safe_psql('postgres', 'DROP INDEX items_coord_v');

# Recall@10 of "qid:id,..." lines against the exact ones; also the number
# of rows returned.
sub recall_of
{
	my ($approx, $exact) = @_;
	my %want;
	for (split /\n/, $exact)
	{
		my ($qid, $ids) = split /:/;
		$want{"$qid:$_"} = 1 for split /,/, $ids;
	}
	my ($found, $rows) = (0, 0);
	for (split /\n/, $approx)
	{
		my ($qid, $ids) = split /:/;
		for (split /,/, $ids) { $rows++; $found++ if $want{"$qid:$_"}; }
	}
	return ($rows, $found / scalar(keys %want));
}

# Scans of index idx on every shard, as "n,n,...".
sub idx_scans
{
	my ($idx) = @_;
	return join(',', map { $_->safe_psql('postgres',
		"SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = '$idx'") } @shards);
}

# Index idx scanned on every shard since the counts before: the shard
# backends of a coordinator session report their statistics when they
# end, shortly after the coordinator's session.
sub scanned_on_every_shard
{
	my ($idx, $before, $what) = @_;
	my @b = split /,/, $before;
	for my $i (@ids)
	{
		ok($shards[$i]->poll_query_until('postgres',
				"SELECT idx_scan > $b[$i] FROM pg_stat_user_indexes WHERE indexrelname = '$idx'"),
			"shard$i: $what ran its own $idx index scan");
	}
}

# hnsw on every shard, built on all of them at once: each shard's cursor
# scans its index; recall against the exact answer.
my $t0 = time;
on_all_shards('CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops); ANALYZE items');
note('hnsw builds on ' . $nshards . ' shards at once: ' . (time - $t0) . ' s');
for my $i (@ids)
{
	is($shards[$i]->safe_psql('postgres', 'SELECT vecx_index_check(\'items_v\', true)'), '',
		"shard$i: vecx_index_check passes");
	# what postgres_fdw sends: a cursor over the remote SQL without LIMIT
	my $cur = $shards[$i]->safe_psql('postgres', qq{
		BEGIN;
		EXPLAIN (COSTS OFF) DECLARE c1 CURSOR FOR SELECT id, v FROM public.items
			ORDER BY (v OPERATOR(public.<->) '$q'::public.vector) ASC NULLS LAST;
		COMMIT});
	like($cur, qr/Index Scan using items_v on items/, "shard$i: the remote cursor scans the hnsw index");
}
my $before = idx_scans('items_v');
my ($rows, $recall) = recall_of(answers('items', '', 't.v <-> q.v'), $exact);
is($rows, 10 * $nq, 'hnsw on the shards: 10 rows for every query');
cmp_ok($recall, '>=', 0.95, "hnsw on the shards: recall\@10 >= 0.95 ($recall)");
scanned_on_every_shard('items_v', $before, 'the coordinator\'s top-10');
($rows, $recall) = recall_of(answers('items', 't.tenant = q.id % 20', 't.v <-> q.v'), $exact_tenant);
is($rows, 10 * $nq, 'hnsw on the shards, one tenant: 10 rows for every query');
cmp_ok($recall, '>=', 0.95, "hnsw on the shards, one tenant: recall\@10 >= 0.95 ($recall)");
is($coord->safe_psql('postgres',
		"SELECT string_agg(id::text, ',') FROM (SELECT id FROM ($per_shard) s ORDER BY d + 0 LIMIT 10) s"),
	$coord->safe_psql('postgres',
		"SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY v <-> '$q' LIMIT 10) s"),
	'the LIMIT-per-shard query gives the same answer');

# Settings for the shards travel in the servers' options, not in the
# coordinator's session: a wider hnsw search, then exact scans with the
# indexes in place.
shard_options('-c hnsw.ef_search=200');
($rows, $recall) = recall_of(answers('items', '', 't.v <-> q.v'), $exact);
cmp_ok($recall, '>=', 0.99, "hnsw.ef_search = 200 in the servers' options: recall\@10 >= 0.99 ($recall)");
shard_options('-c enable_indexscan=off -c enable_bitmapscan=off');
is(answers('items', '', 't.v <-> q.v, t.id'), $exact,
	'index scans switched off in the servers\' options: the exact top-10 again');
shard_options('');

# Inserts through the coordinator after the builds: each query vector
# again, as a new row; every query's nearest row is now its copy, found
# through the shards' hnsw indexes.
$coord->safe_psql('postgres', 'INSERT INTO items SELECT 100000 + id, id % 20, label, v FROM fq');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM items'), $nrows + $nq,
	'rows inserted through the coordinator after the builds');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM fq q WHERE
		(SELECT t.id FROM items t ORDER BY t.v <-> q.v LIMIT 1) = 100000 + q.id}),
	$nq, 'each is the nearest row of its query through the coordinator');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM fq q WHERE
		(SELECT t.id FROM items t WHERE t.tenant = q.id % 20 ORDER BY t.v <-> q.v LIMIT 1) = 100000 + q.id}),
	$nq, 'and of its query within its tenant');
$coord->safe_psql('postgres', 'DELETE FROM items WHERE id >= 100000');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM items'), $nrows, 'deleted through the coordinator');

# ivfpq on every shard instead: each shard's cursor scans its ivfpq index.
on_all_shards('DROP INDEX items_v; CREATE INDEX items_pq ON items USING ivfpq (v vector_l2_ops) WITH (lists = 50); ANALYZE items');
for my $i (@ids)
{
	is($shards[$i]->safe_psql('postgres', 'SELECT vecx_index_check(\'items_pq\', true)'), '',
		"shard$i: vecx_index_check passes on ivfpq");
	my $cur = $shards[$i]->safe_psql('postgres', qq{
		BEGIN;
		EXPLAIN (COSTS OFF) DECLARE c1 CURSOR FOR SELECT id, v FROM public.items
			ORDER BY (v OPERATOR(public.<->) '$q'::public.vector) ASC NULLS LAST;
		COMMIT});
	like($cur, qr/Index Scan using items_pq on items/, "shard$i: the remote cursor scans the ivfpq index");
}
shard_options('-c ivfpq.probes=10');
$before = idx_scans('items_pq');
($rows, $recall) = recall_of(answers('items', '', 't.v <-> q.v'), $exact);
is($rows, 10 * $nq, 'ivfpq on the shards: 10 rows for every query');
cmp_ok($recall, '>=', 0.9, "ivfpq on the shards (ivfpq.probes = 10 in the servers' options): recall\@10 >= 0.9 ($recall)");
scanned_on_every_shard('items_pq', $before, 'the coordinator\'s top-10');
shard_options('');

# A stopped shard: an error, never a shorter answer.  A tenant on another
# shard is still served (pruning never opens the stopped one).
my $down = $nshards - 1;
my $tenant_up = $coord->safe_psql('postgres', 'SELECT tenant FROM items_s0 LIMIT 1');
$shards[$down]->stop;
my ($rc, $out, $err) = $coord->psql('postgres',
	"SELECT id FROM items ORDER BY v <-> '$q' LIMIT 10");
isnt($rc, 0, 'a top-10 with a stopped shard fails');
is($out, '', 'and returns no rows');
like($err, qr/could not connect to server "shard$down"/, 'the error names the shard');
($rc, $out, $err) = $coord->psql('postgres', "SELECT count(*) FROM items WHERE label = 2");
isnt($rc, 0, 'so does a count');
is($coord->safe_psql('postgres',
		"SELECT count(*) FROM (SELECT id FROM items WHERE tenant = $tenant_up ORDER BY v <-> '$q' LIMIT 10) s"),
	'10', 'a tenant on a running shard is still served');
$shards[$down]->start;
is($coord->safe_psql('postgres', "SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '$q' LIMIT 10) s"),
	'10', 'the shard back: the query runs again');

$_->stop for @shards, $coord;
done_testing();
