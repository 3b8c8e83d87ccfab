# 106_ivfflat_wal.pl: ivfflat indexes (vector, halfvec and bit lists)
# replicated to a streaming standby with wal_consistency_checking =
# 'generic' through build, inserts that fill and extend lists, deletes and
# vacuum: the standby answers exactly like the primary.  Then an immediate
# shutdown while clients insert, and crash recovery: every committed row is
# in the index, the answers are those of an exact scan, and an unlogged
# table's index works from its init fork.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $primary = vecx_node('ivfflat_primary', streaming => 1,
	conf => "wal_consistency_checking = 'generic'\nautovacuum = off\nmax_connections = 20");

$primary->safe_psql('postgres', q{
	SELECT setseed(0.42);
	CREATE TABLE t (id int, v vector(16));
	INSERT INTO t SELECT i, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE i > 0)::real[]::vector
		FROM generate_series(1, 3000) i;
	CREATE INDEX t_idx ON t USING ivfflat (v vector_l2_ops) WITH (lists = 16);
	CREATE TABLE b (id int, b bit(96));
	INSERT INTO b SELECT i, (SELECT string_agg(CASE WHEN random() < 0.3 THEN '1' ELSE '0' END, '')
		FROM generate_series(1, 96) WHERE i > 0)::bit(96) FROM generate_series(1, 1000) i;
	CREATE INDEX b_idx ON b USING ivfflat (b bit_hamming_ops) WITH (lists = 8);
});

$primary->backup('b');
my $standby = vecx_standby($primary, 'ivfflat_standby', 'b');

# inserts (generic WAL records, new pages), deletes, vacuum, new indexes
$primary->safe_psql('postgres', q{
	INSERT INTO t SELECT i, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE i > 0)::real[]::vector
		FROM generate_series(3001, 6000) i;
	DELETE FROM t WHERE id % 3 = 0;
	VACUUM t;
	INSERT INTO t SELECT i, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE i > 0)::real[]::vector
		FROM generate_series(6001, 7000) i;
	INSERT INTO b SELECT i, (SELECT string_agg(CASE WHEN random() < 0.3 THEN '1' ELSE '0' END, '')
		FROM generate_series(1, 96) WHERE i > 0)::bit(96) FROM generate_series(1001, 2000) i;
	DELETE FROM b WHERE id % 4 = 0;
	VACUUM b;
	CREATE TABLE h (id int, v halfvec(8));
	INSERT INTO h SELECT i, ARRAY(SELECT random() FROM generate_series(1, 8) WHERE i > 0)::real[]::halfvec
		FROM generate_series(1, 500) i;
	CREATE INDEX h_idx ON h USING ivfflat (v halfvec_cosine_ops) WITH (lists = 4);
	INSERT INTO h SELECT i, ARRAY(SELECT random() FROM generate_series(1, 8) WHERE i > 0)::real[]::halfvec
		FROM generate_series(501, 1000) i;
	CREATE UNLOGGED TABLE u (id int, v vector(3));
	CREATE INDEX u_idx ON u USING ivfflat (v vector_l2_ops) WITH (lists = 2);
	INSERT INTO u VALUES (1, '[1,2,3]'), (2, '[3,2,1]');
});
$primary->wait_for_catchup($standby);

# ids and distances, so that a difference in order or value shows
my $q = q{
	SET enable_seqscan = off; SET ivfflat.probes = 3;
	SELECT string_agg(a, ';') FROM (
		SELECT array(SELECT id || ':' || (v <-> (SELECT v FROM t WHERE id = k)) FROM t
			ORDER BY v <-> (SELECT v FROM t WHERE id = k) LIMIT 10)::text a
		FROM generate_series(1, 30) k WHERE k % 3 <> 0) s;
};
my $qb = q{
	SET enable_seqscan = off; SET ivfflat.probes = 2;
	SELECT array(SELECT b <~> (SELECT b FROM b WHERE id = 7) FROM b ORDER BY b <~> (SELECT b FROM b WHERE id = 7) LIMIT 20)::text;
};
my $qh = q{
	SET enable_seqscan = off; SET ivfflat.probes = 4;
	SELECT array(SELECT id FROM h ORDER BY v <=> '[1,0,1,0,1,0,1,0]' LIMIT 10)::text;
};
my $count = q{
	SET enable_seqscan = off; SET ivfflat.probes = 16;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> array_fill(0.5, ARRAY[16])::vector LIMIT 100000) s;
};
my $pq = $primary->safe_psql('postgres', $q);
is($standby->safe_psql('postgres', $q), $pq, 'standby k-NN answers (ids and distances) match the primary');
is($standby->safe_psql('postgres', $qb), $primary->safe_psql('postgres', $qb), 'standby bit answers match');
is($standby->safe_psql('postgres', $qh), $primary->safe_psql('postgres', $qh), 'standby halfvec cosine answers match');
is($standby->safe_psql('postgres', $count), $primary->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'standby index holds every live row');
like($standby->safe_psql('postgres', q{SET enable_seqscan = off;
	EXPLAIN (costs off) SELECT id FROM t ORDER BY v <-> array_fill(0.5, ARRAY[16])::vector LIMIT 3}),
	qr/Index Scan using t_idx/, 'standby uses the index');
is($standby->safe_psql('postgres', q{SELECT vecx_index_check('t_idx', true), vecx_index_check('b_idx', true),
	vecx_index_check('h_idx', true)}), '||', 'vecx_index_check passes on the standby');

$primary->safe_psql('postgres', 'CHECKPOINT');
$primary->wait_for_catchup($standby);
ok($standby->safe_psql('postgres', 'SELECT 1') eq '1', 'standby still up');
my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found|PANIC|FATAL:  .*ivf/, 'no consistency check failure in the standby log');
$standby->stop;

# crash recovery: immediate shutdown while clients insert
my $tmp = PostgreSQL::Test::Utils::tempdir;
write_file("$tmp/ins.sql",
	"INSERT INTO t SELECT 100000 + (random() * 1e9)::int, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE g > 0)::real[]::vector FROM generate_series(1, 20) g;\n");
my $before = $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-T', '60', '-f', "$tmp/ins.sql", '-h', $primary->host, '-p', $primary->port, 'postgres' ],
	'>', \$out, '2>', \$err);
$primary->poll_query_until('postgres', "SELECT count(*) > $before + 3000 FROM t") or die 'inserts did not progress';
$primary->stop('immediate');
$h->finish;
$primary->start;

my $rows = $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
cmp_ok($rows, '>', $before + 3000, 'committed rows survived');
is($primary->safe_psql('postgres', $count), $rows, 'index holds every row after recovery');
is($primary->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfflat.probes = 16;
	SELECT array(SELECT v <-> array_fill(0.3, ARRAY[16])::vector FROM t ORDER BY v <-> array_fill(0.3, ARRAY[16])::vector LIMIT 10)}),
	$primary->safe_psql('postgres', q{SET enable_indexscan = off;
	SELECT array(SELECT v <-> array_fill(0.3, ARRAY[16])::vector FROM t ORDER BY v <-> array_fill(0.3, ARRAY[16])::vector LIMIT 10)}),
	'index answers match an exact scan after recovery');
is($primary->safe_psql('postgres', q{SELECT vecx_index_check('t_idx', true)}), '', 'vecx_index_check passes after recovery');

# unlogged: empty after the crash, and the index (reset from its init fork) works
is($primary->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'unlogged table emptied by crash recovery');
$primary->safe_psql('postgres', q{INSERT INTO u VALUES (3, '[1,1,1]'), (4, '[5,5,5]')});
is($primary->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT id FROM u ORDER BY v <-> '[4,4,4]' LIMIT 1}), '4', 'unlogged index works after crash');

$primary->stop;
done_testing();
