# 013_hnsw_concurrent.pl: many pgbench clients insert into one hnsw index
# while others delete and vacuum; afterwards every row is findable through
# the index (it is its own nearest neighbour) and nothing deadlocked.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('concurrent', conf => "deadlock_timeout = 100ms\nautovacuum = off");
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id bigserial PRIMARY KEY, v vector(16));
	-- "+ 0 * g" correlates the subquery, or every row gets the same vector
	INSERT INTO t (v) SELECT ARRAY(SELECT random() + 0 * g FROM generate_series(1, 16))::vector(16)
		FROM generate_series(1, 300) g;
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
});

# inserts only: several clients, several threads
$node->pgbench('-n -c 6 -j 2 -t 150', 0, [qr/processed: 900\/900/], [qr/^$/],
	'concurrent inserts',
	{ 'ins' => "INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 16))::vector(16);" });
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '1200', 'all inserts committed');

my $check = qq{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 100;
	SELECT count(*) FROM t WHERE id <> (SELECT id FROM t t2 ORDER BY t2.v <-> t.v LIMIT 1);
};
# No inserted row is lost: every heap row has its index entry (the
# checker's heapallindexed pass), and a walk-only iterative scan (no exact
# pass) reaches all but at most a few of them.  A graph built by concurrent
# inserts can leave a node without in-links when every neighbour that
# linked to it re-pruned it away (HNSW's known limit, src/am/hnsw/README
# "Limits"; the exact pass of the default settings still returns such
# rows): measured, the walk missed a row in 2 of 30 runs.  Searching for
# each row itself is approximate too (a row linked in while its neighbours
# were still being inserted can lose a nearest-1 search at ef_search 100),
# so that allows two misses in 1,200.
my $reach = qq{SET enable_seqscan = off; SET hnsw.ef_search = 1000;
	SET hnsw.iterative_scan = relaxed_order; SET hnsw.exact_fallback = off;
	SELECT (SELECT count(*) FROM t) - count(*) FROM
		(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t LIMIT 1) LIMIT 100000) s};
is($node->safe_psql('postgres', "SELECT vecx_index_check('t_v', heapallindexed => true)"), '',
	'no inserted row is lost: every row has its index entry');
my $unreached = $node->safe_psql('postgres', $reach);
cmp_ok($unreached, '<=', 3, "a walk reaches all but at most 3 rows ($unreached unreached)");
my $miss = $node->safe_psql('postgres', $check);
cmp_ok($miss, '<=', 2, "rows that do not find themselves at ef_search 100 ($miss of 1200)");

# inserts mixed with deletes and vacuums
$node->pgbench('-n -c 5 -j 2 -t 120', 0, [qr/processed: 600\/600/], [qr/^$/],
	'inserts, deletes and vacuum at once',
	{ 'mixins@6' => "INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 16))::vector(16);",
	  'del@2' => "\\set k random(1, 2000)\nDELETE FROM t WHERE id = :k;",
	  'vac@1' => "VACUUM t;" });
$node->safe_psql('postgres', 'VACUUM t');
$miss = $node->safe_psql('postgres', $check);
cmp_ok($miss, '<=', 2, "rows that do not find themselves after the mix ($miss)");
is($node->safe_psql('postgres', "SELECT vecx_index_check('t_v', heapallindexed => true)"), '',
	'after the mix every row has its index entry');
$unreached = $node->safe_psql('postgres', $reach);
cmp_ok($unreached, '<=', 3, "after the mix a walk reaches all but at most 3 rows ($unreached unreached)");

# graph copies (hnsw.cache_size) under concurrent change: searching clients
# take copies that inserts, deletes and vacuums keep retiring; nothing
# errors, and afterwards a walk of a copy answers exactly as a walk of
# the pages does (16 dimensions: copies walk the same float32 vectors)
$node->safe_psql('postgres', "ALTER DATABASE postgres SET hnsw.cache_size = '64MB'");
$node->pgbench('-n -c 6 -j 2 -t 150', 0, [qr/processed: 900\/900/], [qr/^$/],
	'searches on graph copies during inserts, deletes and vacuum',
	{ 'cins@3' => "INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 16))::vector(16);",
	  'cdel@1' => "\\set k random(1, 3000)\nDELETE FROM t WHERE id = :k;",
	  'cvac@1' => "VACUUM t;",
	  'csearch@6' => "SET enable_seqscan = off;\nSELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t ORDER BY id DESC LIMIT 1) LIMIT 10) s;" });
$node->safe_psql('postgres', 'VACUUM t');
my $copy = $node->safe_psql('postgres', qq{$check
	SELECT builds > 0 AND current FROM vecx_hnsw_cache_status() WHERE index = 't_v'::regclass;});
my $pages = $node->safe_psql('postgres', "SET hnsw.cache_size = 0; $check");
my ($copymiss, $copyused) = split /\n/, $copy;
is($copyused, 't', 'the check walked a current graph copy');
is($copymiss, $pages, "a copy finds what the pages find ($pages rows miss themselves)");
$unreached = $node->safe_psql('postgres', $reach);
cmp_ok($unreached, '<=', 3, "a walk of a copy reaches all but at most 3 rows ($unreached unreached)");

$node->stop;
done_testing();
