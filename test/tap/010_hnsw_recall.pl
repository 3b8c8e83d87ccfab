# 010_hnsw_recall.pl: recall@10 of hnsw on a Fashion-MNIST subset against
# the exact answer, for a serial in-memory build, a build that spills to
# on-disk inserts, an index filled by inserts only, halfvec and cosine.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
fmnist_tsv($tmp, 'train', 4000);
fmnist_tsv($tmp, 'test', 100);

my $node = vecx_node('recall', conf => "shared_buffers = 256MB\nmaintenance_work_mem = 512MB");
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id int, label int, v vector(784));
	COPY t FROM '$tmp/train.tsv';
	CREATE TABLE q (id int, label int, v vector(784));
	COPY q FROM '$tmp/test.tsv';
	SET enable_indexscan = off;
	CREATE TABLE gt AS SELECT q.id AS qid, s.id AS tid FROM q,
		LATERAL (SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) s;
	CREATE TABLE gtc AS SELECT q.id AS qid, s.id AS tid FROM q,
		LATERAL (SELECT id FROM t ORDER BY t.v <=> q.v LIMIT 10) s;
});

# recall of the index-driven top 10 against a ground-truth table
sub recall
{
	my ($op, $gt, $cast, $ef) = @_;
	$cast //= '';
	$ef //= 40;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET hnsw.ef_search = $ef;
		CREATE TEMP TABLE res AS SELECT q.id AS qid, s.id AS tid FROM q,
			LATERAL (SELECT id FROM t ORDER BY t.v$cast $op q.v$cast LIMIT 10) s;
		SELECT round(count(*)::numeric / (SELECT count(*) FROM $gt), 3)
			FROM $gt JOIN res USING (qid, tid);
	});
}

sub uses_index
{
	my ($op, $cast) = @_;
	$cast //= '';
	my $plan = $node->safe_psql('postgres', qq{
		EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY t.v$cast $op (SELECT v FROM q LIMIT 1)$cast LIMIT 10});
	return $plan =~ /Index Scan using/;
}

my ($rc, $out, $err);
$node->safe_psql('postgres', qq{SET max_parallel_maintenance_workers = 0;
	CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops)});
ok(uses_index('<->'), 'the planner uses the index for ORDER BY <-> LIMIT 10');
my $r = recall('<->', 'gt');
cmp_ok($r, '>=', 0.95, "recall\@10 of the serial in-memory build at ef_search 40 ($r)");
$r = recall('<->', 'gt', '', 200);
cmp_ok($r, '>=', 0.99, "recall\@10 at ef_search 200 ($r)");
$node->safe_psql('postgres', 'DROP INDEX t_l2');

# parallel build (the table is small, so lower the planner's size floor)
($rc, $out, $err) = $node->psql('postgres', qq{
	SET client_min_messages = debug1;
	SET max_parallel_maintenance_workers = 2;
	SET min_parallel_table_scan_size = 0;
	CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops)});
is($rc, 0, 'parallel build succeeds');
like($err, qr/building hnsw index "t_l2" with [12] parallel workers/, 'and used parallel workers');
$r = recall('<->', 'gt');
cmp_ok($r, '>=', 0.95, "recall\@10 of the parallel build ($r)");
# a search for a row's own vector must find it (HNSW gives no guarantee, so
# allow one miss in the 100 samples)
my $miss = $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 100;
	SELECT count(*) FROM (SELECT * FROM t WHERE id % 40 = 0) x
		WHERE (SELECT t2.v <-> x.v FROM t t2 ORDER BY t2.v <-> x.v LIMIT 1) > 0});
cmp_ok($miss, '<=', 1, "sampled rows that do not find themselves after the parallel build ($miss)");
$node->safe_psql('postgres', 'DROP INDEX t_l2');

# graph spills out of maintenance_work_mem: the rest is inserted on disk
($rc, $out, $err) = $node->psql('postgres', qq{
	SET maintenance_work_mem = '4MB';
	CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops)});
is($rc, 0, 'build with a small maintenance_work_mem succeeds');
like($err, qr/no longer fits into maintenance_work_mem/, 'and says so');
$r = recall('<->', 'gt');
cmp_ok($r, '>=', 0.95, "recall\@10 of the spilled build ($r)");
$node->safe_psql('postgres', 'DROP INDEX t_l2');

# index filled by inserts only
$node->safe_psql('postgres', qq{
	CREATE TABLE t2 (LIKE t);
	CREATE INDEX t2_l2 ON t2 USING hnsw (v vector_l2_ops);
	INSERT INTO t2 SELECT * FROM t;
	ALTER TABLE t RENAME TO t_orig;
	ALTER TABLE t2 RENAME TO t;
});
$r = recall('<->', 'gt');
cmp_ok($r, '>=', 0.95, "recall\@10 of an index built by inserts ($r)");
$node->safe_psql('postgres', qq{
	DROP TABLE t;
	ALTER TABLE t_orig RENAME TO t;
});

# halfvec: about the same recall
$node->safe_psql('postgres',
	'CREATE INDEX t_h ON t USING hnsw ((v::halfvec(784)) halfvec_l2_ops)');
ok(uses_index('<->', '::halfvec(784)'), 'the planner uses the halfvec index');
$r = recall('<->', 'gt', '::halfvec(784)');
cmp_ok($r, '>=', 0.95, "halfvec recall\@10 ($r)");
$node->safe_psql('postgres', 'DROP INDEX t_h');

# cosine
$node->safe_psql('postgres', 'CREATE INDEX t_c ON t USING hnsw (v vector_cosine_ops)');
ok(uses_index('<=>'), 'the planner uses the cosine index');
$r = recall('<=>', 'gtc');
cmp_ok($r, '>=', 0.95, "cosine recall\@10 ($r)");

$node->stop;
done_testing();
