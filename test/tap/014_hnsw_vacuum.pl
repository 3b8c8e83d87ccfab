# 014_hnsw_vacuum.pl: repeated delete / vacuum / insert cycles reuse the
# slots vacuum frees, so the index stays within a size bound, and the
# repaired graph still finds every row.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('vacuum', conf => "autovacuum = off");
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id int PRIMARY KEY, v vector(32));
	SELECT setseed(0.42);
	INSERT INTO t SELECT i, ARRAY(SELECT random() + 0 * i FROM generate_series(1, 32) j)::vector(32)
		FROM generate_series(1, 3000) i;
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops);
});
my $size0 = $node->safe_psql('postgres', "SELECT pg_relation_size('t_v')");

my $next = 3001;
for my $cycle (1 .. 8)
{
	my $hi = $next + 599;
	$node->safe_psql('postgres', qq{
		DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY md5(id::text || '$cycle') LIMIT 600);
		VACUUM t;
		INSERT INTO t SELECT i, ARRAY(SELECT random() + 0 * i FROM generate_series(1, 32) j)::vector(32)
			FROM generate_series($next, $hi) i;
	});
	$next = $hi + 1;
}
my $size = $node->safe_psql('postgres', "SELECT pg_relation_size('t_v')");
cmp_ok($size, '<=', $size0 * 1.25, "index size stays bounded over 8 cycles ($size0 -> $size)");
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '3000', 'row count unchanged');

my $missing = $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 100;
	SELECT count(*) FROM t WHERE id <> (SELECT id FROM t t2 ORDER BY t2.v <-> t.v LIMIT 1);
});
cmp_ok($missing, '<=', 6, "rows not found as their own nearest neighbour after repairs ($missing)");

# recall on the repaired graph against the exact answer
my $recall = $node->safe_psql('postgres', qq{
	SET enable_indexscan = off;
	CREATE TEMP TABLE gt AS SELECT q.id AS qid, s.id AS tid FROM (SELECT * FROM t WHERE id % 50 = 0) q,
		LATERAL (SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) s;
	SET enable_indexscan = on;
	SET enable_seqscan = off;
	CREATE TEMP TABLE res AS SELECT q.id AS qid, s.id AS tid FROM (SELECT * FROM t WHERE id % 50 = 0) q,
		LATERAL (SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) s;
	SELECT round(count(*)::numeric / (SELECT count(*) FROM gt), 3) FROM gt JOIN res USING (qid, tid);
});
cmp_ok($recall, '>=', 0.9, "recall\@10 after vacuum cycles ($recall)");

# deleting everything empties the graph; it is rebuilt by inserts
$node->safe_psql('postgres', 'DELETE FROM t; VACUUM t;');
$node->safe_psql('postgres', "INSERT INTO t VALUES (1, array_fill(0.5, ARRAY[32])::vector(32))");
is($node->safe_psql('postgres', qq{SET enable_seqscan = off;
	SELECT id FROM t ORDER BY v <-> array_fill(0.4, ARRAY[32])::vector(32) LIMIT 1}), '1',
	'insert into an emptied index is found');

$node->stop;
done_testing();
