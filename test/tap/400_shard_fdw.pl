# 400_shard_fdw.pl: scale-out with PostgreSQL's own sharding
# (docs/scale-out.md): two shard nodes and a coordinator whose table is
# partitioned by hash of tenant into postgres_fdw foreign tables (server
# option extensions 'vecx').  Rows inserted through the coordinator land on
# their shard; the top-10 through the coordinator equals the exact top-10
# of the same rows in one local table; the remote SQL carries the ORDER BY
# with vecx's operator and the filters; each shard's cursor runs its hnsw
# index scan; a stopped shard makes the query fail instead of returning
# fewer rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $nrows = 6000;
my $nq = 20;

my $coord = vecx_node('coord');
if ($coord->safe_psql('postgres',
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'postgres_fdw'") ne '1')
{
	$coord->stop;
	plan skip_all => 'postgres_fdw is not installed';
}
my @shards = map { vecx_node("shard$_") } (0, 1);

my $cols = 'id int NOT NULL, tenant int NOT NULL, label int NOT NULL, v vector(784) NOT NULL';
$_->safe_psql('postgres', "CREATE TABLE items ($cols, PRIMARY KEY (id))") for @shards;

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
for my $i (0, 1)
{
	my ($host, $port) = ($shards[$i]->host, $shards[$i]->port);
	$setup .= qq{
	CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
		OPTIONS (host '$host', port '$port', dbname 'postgres',
				 extensions 'vecx', async_capable 'true', fetch_size '10', batch_size '100');
	CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i;
	CREATE FOREIGN TABLE items_s$i PARTITION OF items FOR VALUES WITH (MODULUS 2, REMAINDER $i)
		SERVER shard$i OPTIONS (table_name 'items');
	};
}
# ANALYZE samples the shards: without statistics the coordinator thinks
# the partitions tiny and may fetch every row to sort it itself.
$setup .= "INSERT INTO items SELECT * FROM fm;\nANALYZE items;\n";
$coord->safe_psql('postgres', $setup);

# Writes: every row on exactly one shard, the one of its partition.
my @counts = map { $_->safe_psql('postgres', 'SELECT count(*) FROM items') } @shards;
is($counts[0] + $counts[1], $nrows, 'every row inserted through the coordinator is on a shard');
ok($counts[0] > 0 && $counts[1] > 0, "both shards hold rows ($counts[0], $counts[1])");
my ($part, $id) = split /\|/, $coord->safe_psql('postgres',
	'SELECT tableoid::regclass, id FROM items WHERE id = 4242');
my $s = $part eq 'items_s0' ? 0 : 1;
is($shards[$s]->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id = 4242'), '1',
	"row 4242 is on the shard of its partition $part");
is($shards[1 - $s]->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id = 4242'), '0',
	'and not on the other');

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
is(answers('items', 't.tenant = q.id % 20', 't.v <-> q.v, t.id'),
	answers('fm', 't.tenant = q.id % 20', 't.v <-> q.v, t.id'),
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
is(count_of($plan, qr/Foreign Scan on public\.items_s\d/), 2, 'on both shards');

$plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items WHERE tenant = 3 ORDER BY v <-> '$q' LIMIT 10");
like($plan, qr/Remote SQL: SELECT id, v FROM public\.items WHERE \(\(tenant = 3\)\) ORDER BY \(v OPERATOR\(public\.<->\)/,
	'a tenant filter is in the remote SQL');
is(count_of($plan, qr/Foreign Scan on/), 1, 'and partition pruning leaves one shard');
$plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items WHERE label = ANY ('{2,3}') AND id > 100 ORDER BY v <-> '$q' LIMIT 10");
is(count_of($plan, qr/Remote SQL: SELECT id, v FROM public\.items WHERE \(\(label = ANY \('\{2,3\}'::integer\[\]\)\)\) AND \(\(id > 100\)\) ORDER BY/),
	2, 'filters on other columns go to both shards');

# One LIMIT per shard: postgres_fdw pushes it into each remote query, and
# the Append runs the shards asynchronously.
my $per_shard = join(' UNION ALL ',
	map { "(SELECT id, v <-> '$q' AS d FROM items_s$_ ORDER BY v <-> '$q' LIMIT 10)" } (0, 1));
$plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM ($per_shard) s ORDER BY d + 0 LIMIT 10");
is(count_of($plan, qr/Async Foreign Scan.*\n.*\n.*Remote SQL: .* ORDER BY \(v OPERATOR\(public\.<->\) .* LIMIT 10::bigint/),
	2, 'a LIMIT per shard is pushed down and the shards run asynchronously');

# CREATE INDEX on the coordinator's table does not reach the shards: the
# foreign partitions are skipped.
$coord->safe_psql('postgres', 'CREATE INDEX items_coord_v ON items USING hnsw (v vector_l2_ops)');
is(join(',', map { $_->safe_psql('postgres', "SELECT count(*) FROM pg_indexes WHERE tablename = 'items' AND indexdef LIKE '%hnsw%'") } @shards),
	'0,0', 'CREATE INDEX on the coordinator builds nothing on the shards');
$coord->safe_psql('postgres', 'DROP INDEX items_coord_v');

# hnsw on every shard: each shard's cursor scans its index; recall against
# the exact answer.
$_->safe_psql('postgres', 'CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops); ANALYZE items')
  for @shards;
for my $i (0, 1)
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
my $approx = answers('items', '', 't.v <-> q.v');
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
is($rows, 10 * $nq, 'hnsw on the shards: 10 rows for every query');
cmp_ok($found / (10 * $nq), '>=', 0.95, 'hnsw on the shards: recall@10 >= 0.95 (' . $found / (10 * $nq) . ')');
is($coord->safe_psql('postgres',
		"SELECT string_agg(id::text, ',') FROM (SELECT id FROM ($per_shard) s ORDER BY d + 0 LIMIT 10) s"),
	$coord->safe_psql('postgres',
		"SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY v <-> '$q' LIMIT 10) s"),
	'the LIMIT-per-shard query gives the same answer');

# A stopped shard: an error, never a shorter answer.  A tenant on the other
# shard is still served (pruning never opens the stopped one).
my $down = 1;
my $tenant_up = $coord->safe_psql('postgres',
	"SELECT tenant FROM items_s" . (1 - $down) . " LIMIT 1");
$shards[$down]->stop;
my ($rc, $out, $err) = $coord->psql('postgres',
	"SELECT id FROM items ORDER BY v <-> '$q' LIMIT 10");
isnt($rc, 0, 'a top-10 with a stopped shard fails');
is($out, '', 'and returns no rows');
like($err, qr/could not connect to server "shard$down"/, 'the error names the shard');
is($coord->safe_psql('postgres',
		"SELECT count(*) FROM (SELECT id FROM items WHERE tenant = $tenant_up ORDER BY v <-> '$q' LIMIT 10) s"),
	'10', 'a tenant on the running shard is still served');
$shards[$down]->start;
is($coord->safe_psql('postgres', "SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '$q' LIMIT 10) s"),
	'10', 'the shard back: the query runs again');

$_->stop for @shards, $coord;
done_testing();
