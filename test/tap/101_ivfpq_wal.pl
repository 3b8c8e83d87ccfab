# 101_ivfpq_wal.pl: an ivfpq index replicated to a streaming standby with
# wal_consistency_checking = 'generic': build, inserts that fill and extend
# lists, deletes and vacuum; the standby answers like the primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $primary = vecx_node('ivfpq_primary', streaming => 1, conf => "wal_consistency_checking = 'generic'\nautovacuum = off");

$primary->safe_psql('postgres', q{
	SELECT setseed(0.42);
	CREATE TABLE t (id int, v vector(16));
	INSERT INTO t SELECT i, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE i > 0)::real[]::vector
		FROM generate_series(1, 3000) i;
	CREATE INDEX t_idx ON t USING ivfpq (v vector_l2_ops) WITH (lists = 16);
});

$primary->backup('b');
my $standby = vecx_standby($primary, 'ivfpq_standby', 'b');

# inserts (generic WAL records, new pages), deletes, vacuum, a new index
$primary->safe_psql('postgres', q{
	INSERT INTO t SELECT i, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE i > 0)::real[]::vector
		FROM generate_series(3001, 6000) i;
	DELETE FROM t WHERE id % 3 = 0;
	VACUUM t;
	INSERT INTO t SELECT i, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE i > 0)::real[]::vector
		FROM generate_series(6001, 7000) i;
	CREATE TABLE h (id int, v halfvec(8));
	INSERT INTO h SELECT i, ARRAY(SELECT random() FROM generate_series(1, 8) WHERE i > 0)::real[]::halfvec
		FROM generate_series(1, 500) i;
	CREATE INDEX h_idx ON h USING ivfpq (v halfvec_cosine_ops) WITH (lists = 4);
	INSERT INTO h SELECT i, ARRAY(SELECT random() FROM generate_series(1, 8) WHERE i > 0)::real[]::halfvec
		FROM generate_series(501, 1000) i;
	CREATE UNLOGGED TABLE u (id int, v vector(4));
	CREATE INDEX ON u USING ivfpq (v vector_l2_ops);
});
$primary->wait_for_catchup($standby);

my $q = q{
	SET enable_seqscan = off; SET ivfpq.probes = 16;
	SELECT string_agg(a, ';') FROM (
		SELECT array(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = k) LIMIT 10)::text a
		FROM generate_series(1, 30) k WHERE k % 3 <> 0) s;
};
my $qh = q{
	SET enable_seqscan = off; SET ivfpq.probes = 4;
	SELECT array(SELECT id FROM h ORDER BY v <=> '[1,0,1,0,1,0,1,0]' LIMIT 10)::text;
};
my $count = q{
	SET enable_seqscan = off; SET ivfpq.probes = 16;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> array_fill(0.5, ARRAY[16])::vector LIMIT 100000) s;
};
is($standby->safe_psql('postgres', $q), $primary->safe_psql('postgres', $q), 'standby k-NN answers match the primary');
is($standby->safe_psql('postgres', $qh), $primary->safe_psql('postgres', $qh), 'standby halfvec cosine answers match');
is($standby->safe_psql('postgres', $count), $primary->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'standby index holds every live row');
like($standby->safe_psql('postgres', q{SET enable_seqscan = off;
	EXPLAIN (costs off) SELECT id FROM t ORDER BY v <-> array_fill(0.5, ARRAY[16])::vector LIMIT 3}),
	qr/Index Scan using t_idx/, 'standby uses the index');

# the standby replayed everything under consistency checking without failing
$primary->safe_psql('postgres', 'CHECKPOINT');
$primary->wait_for_catchup($standby);
ok($standby->safe_psql('postgres', 'SELECT 1') eq '1', 'standby still up');
my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found|PANIC|FATAL:  .*ivfpq/, 'no consistency check failure in the standby log');

# promote: the index keeps working for writes
$standby->promote;
$standby->safe_psql('postgres', q{
	INSERT INTO t SELECT i, array_fill(0.25, ARRAY[16])::vector FROM generate_series(9001, 9010) i});
is($standby->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfpq.probes = 16;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> array_fill(0.25, ARRAY[16])::vector LIMIT 10) s WHERE id > 9000}),
	'10', 'inserts after promotion are found');

$standby->stop;
$primary->stop;
done_testing();
