# 011_hnsw_standby.pl: every change to an hnsw index replays on a streaming
# standby, checked page by page by wal_consistency_checking = generic on
# both servers, and the standby answers the same top-k as the primary;
# graph copies (hnsw.cache_size) of standby backends follow replay.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $primary = vecx_node('primary', streaming => 1, conf => "wal_consistency_checking = 'generic'");
$primary->safe_psql('postgres', qq{
	CREATE TABLE t (id int PRIMARY KEY, v vector(16));
	INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 7.1 + j) FROM generate_series(1, 16) j)::vector(16)
		FROM generate_series(1, 1500) i;
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	CREATE TABLE h (id int PRIMARY KEY, v halfvec(8));
	INSERT INTO h SELECT i, ARRAY(SELECT cos(i * 3.3 + j) FROM generate_series(1, 8) j)::halfvec(8)
		FROM generate_series(1, 500) i;
	CREATE INDEX h_v ON h USING hnsw (v halfvec_cosine_ops);
	CREATE TABLE q (id int PRIMARY KEY, v vector(32));
	INSERT INTO q SELECT i, ARRAY(SELECT 10 * sin(i * 1.7 + j * 0.3) FROM generate_series(1, 32) j)::vector(32)
		FROM generate_series(1, 1000) i;
	CREATE INDEX q_v ON q USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
});

$primary->backup('bk');
my $standby = vecx_standby($primary, 'standby', 'bk', conf => "wal_consistency_checking = 'generic'");

# inserts (node pages, neighbour updates, new pages, metapage), deletes,
# vacuum (deleted marks, repairs, freed slots), slot reuse, entry changes
$primary->safe_psql('postgres', qq{
	INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 7.1 + j) FROM generate_series(1, 16) j)::vector(16)
		FROM generate_series(1501, 2500) i;
	DELETE FROM t WHERE id % 4 = 0;
	VACUUM t;
	INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 7.1 + j) FROM generate_series(1, 16) j)::vector(16)
		FROM generate_series(2501, 3000) i;
	INSERT INTO h SELECT i, ARRAY(SELECT cos(i * 3.3 + j) FROM generate_series(1, 8) j)::halfvec(8)
		FROM generate_series(501, 800) i;
	DELETE FROM h WHERE id < 300;
	VACUUM h;
	INSERT INTO q SELECT i, ARRAY(SELECT 10 * sin(i * 1.7 + j * 0.3) FROM generate_series(1, 32) j)::vector(32)
		FROM generate_series(1001, 1600) i;
	DELETE FROM q WHERE id % 3 = 0;
	VACUUM q;
	INSERT INTO q SELECT i, ARRAY(SELECT 10 * sin(i * 1.7 + j * 0.3) FROM generate_series(1, 32) j)::vector(32)
		FROM generate_series(1601, 1800) i;
	CREATE UNLOGGED TABLE u (v vector(3));
	CREATE INDEX u_v ON u USING hnsw (v vector_l2_ops);
});
$primary->wait_for_catchup($standby);

my $q = qq{
	SET enable_seqscan = off;
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 17) LIMIT 20) s;
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 2999) LIMIT 20) s;
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM h ORDER BY v <=> (SELECT v FROM h WHERE id = 700) LIMIT 20) s;
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM q ORDER BY v <-> (SELECT v FROM q WHERE id = 1700) LIMIT 20) s;
};
my $p = $primary->safe_psql('postgres', $q);
my $s = $standby->safe_psql('postgres', $q);
is($s, $p, 'standby returns the same top-k as the primary');
like($p, qr/^17,/, 'the query row is its own nearest neighbour');
my $plan = $standby->safe_psql('postgres', qq{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> (SELECT v FROM t LIMIT 1) LIMIT 5});
like($plan, qr/Index Scan using t_v/, 'the standby uses the index');
like($p, qr/\n1700,[^\n]*$/, 'the sq8 index finds the query row first');
is($standby->safe_psql('postgres', "SELECT vecx_index_check('q_v', heapallindexed => true)"), '',
	'the replayed sq8 index checks clean on the standby');
is($standby->safe_psql('postgres', qq{SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t LIMIT 1) LIMIT 10) s}),
	'10', 'standby index scan returns rows');

# graph copies (hnsw.cache_size) on the standby: replaying the primary's
# insert and vacuum bumps the index's change count, which retires the copy
# a standby backend holds; the backend then finds the replayed changes
my $bg = $standby->background_psql('postgres');
$bg->query_safe("SET enable_seqscan = off; SET hnsw.cache_size = '64MB'");
my $warm = qq{SELECT count(*) FROM generate_series(1, 40) g, LATERAL
	(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t ORDER BY id OFFSET g LIMIT 1) LIMIT 1) s};
my $copy = "SELECT current FROM vecx_hnsw_cache_status() WHERE index = 't_v'::regclass";
my $five = '[' . join(',', (5) x 16) . ']';
my $near = "SELECT id FROM t ORDER BY v <-> '$five' LIMIT 1";
is($bg->query_safe($warm), '40', 'standby backend scans with a graph copy');
is($bg->query_safe($copy), 't', 'the standby backend holds a current copy');
$primary->safe_psql('postgres', "INSERT INTO t VALUES (5000, '$five')");
$primary->wait_for_catchup($standby);
is($bg->query_safe($copy), 'f', 'replaying an insert retires the copy');
is($bg->query_safe($near), '5000', 'the standby backend finds the replayed row');
$bg->query_safe($warm);
is($bg->query_safe($copy), 't', 'a new copy is taken');
is($bg->query_safe($near), '5000', 'the new copy serves the replayed row');
$primary->safe_psql('postgres', "DELETE FROM t WHERE id = 5000; VACUUM t");
$primary->wait_for_catchup($standby);
is($bg->query_safe($copy), 'f', 'replaying a vacuum retires the copy');
isnt($bg->query_safe($near), '5000', 'the vacuumed row is gone on the standby');
$bg->quit;

# the unlogged index exists on the standby but cannot be scanned there;
# after promotion it is empty and usable
$standby->promote;
$standby->safe_psql('postgres', "INSERT INTO u VALUES ('[1,2,3]'), ('[3,2,1]')");
is($standby->safe_psql('postgres', qq{SET enable_seqscan = off;
	SELECT v FROM u ORDER BY v <-> '[1,2,2]' LIMIT 1}), '[1,2,3]',
	'unlogged hnsw index works after promotion');

my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no page inconsistency during replay');

$standby->stop;
$primary->stop;
done_testing();
