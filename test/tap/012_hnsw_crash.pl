# 012_hnsw_crash.pl: an immediate stop during concurrent inserts; after
# recovery every committed row is found through the index, the index keeps
# accepting inserts, and an unlogged index comes back empty but usable.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $node = vecx_node('crash', conf => "checkpoint_timeout = 30s\nmax_wal_size = 64MB");
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id int PRIMARY KEY, v vector(8));
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops) WITH (m = 6, ef_construction = 24);
	INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 1.7 + j * 0.3) FROM generate_series(1, 8) j)::vector(8)
		FROM generate_series(1, 500) i;
	CREATE UNLOGGED TABLE u (id int, v vector(3));
	CREATE INDEX u_v ON u USING hnsw (v vector_l2_ops);
	INSERT INTO u SELECT i, ARRAY[i, i, i]::vector(3) FROM generate_series(1, 100) i;
});

# two background sessions insert committed batches until the crash
my @bg;
for my $c (0 .. 1)
{
	my ($out, $err) = ('', '');
	my $sql = '';
	for my $b (0 .. 400)
	{
		my $lo = 1000 + $c * 100000 + $b * 10;
		my $hi = $lo + 9;
		$sql .= "INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 1.7 + j * 0.3) FROM generate_series(1, 8) j)::vector(8) FROM generate_series($lo, $hi) i;\n";
	}
	push @bg, psql_file_bg($node, write_file("$tmp/ins$c.sql", $sql), \$out, \$err);
}
# let them commit some batches (the machine may be busy), then crash
$node->poll_query_until('postgres', 'SELECT count(*) > 700 FROM t')
	or die "background inserts made no progress";
$node->stop('immediate');
$_->kill_kill for @bg;
$node->start;

my $n = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
cmp_ok($n, '>', 500, "rows committed before the crash survive ($n)");

# every committed row is its own nearest neighbour through the index
my $missing = $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 100;
	SELECT count(*) FROM t WHERE id <> (SELECT id FROM t t2 ORDER BY t2.v <-> t.v LIMIT 1)
		AND (SELECT t2.v <-> t.v FROM t t2 ORDER BY t2.v <-> t.v LIMIT 1) > 0;
});
is($missing, '0', 'every committed row is found through the index after recovery');
my $plan = $node->safe_psql('postgres', qq{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 1});
like($plan, qr/Index Scan using t_v/, 'and the index is what the query used');

# the index still takes inserts and finds them
$node->safe_psql('postgres', "INSERT INTO t VALUES (-1, '[9,9,9,9,9,9,9,9]')");
is($node->safe_psql('postgres', qq{SET enable_seqscan = off;
	SELECT id FROM t ORDER BY v <-> '[9,9,9,9,9,9,9,8.9]' LIMIT 1}), '-1', 'insert after recovery is found');

# unlogged: reset to the init fork, still a valid index
is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'unlogged table is empty after crash');
$node->safe_psql('postgres', "INSERT INTO u VALUES (1, '[1,1,1]'), (2, '[5,5,5]')");
is($node->safe_psql('postgres', qq{SET enable_seqscan = off;
	SELECT id FROM u ORDER BY v <-> '[4,4,4]' LIMIT 1}), '2', 'unlogged hnsw index usable after crash');

$node->stop;
done_testing();
