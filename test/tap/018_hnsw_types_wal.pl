# 018_hnsw_types_wal.pl: hnsw indexes on bit(n) and sparsevec (inline and
# overflow-stored slots, a filter column) replay on a streaming standby,
# checked page by page by wal_consistency_checking = generic, and answer
# exactly as the primary; after an immediate stop, crash recovery gives
# the same answers as before it, and the checker finds every index clean.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $primary = vecx_node('primary', streaming => 1, conf => "wal_consistency_checking = 'generic'");

# rows as SQL: bit strings from a hash of the id, sparse vectors with a few
# elements at skewed indices
my $bits = sub {
	my ($lo, $hi, $n) = @_;
	return qq{SELECT i, i % 4, (SELECT string_agg(CASE WHEN hashint4(i * 1000 + j) % 3 = 0 THEN '1' ELSE '0' END, '')
		FROM generate_series(1, $n) j)::bit($n) FROM generate_series($lo, $hi) i};
};
my $sparse = sub {
	my ($lo, $hi, $d) = @_;
	return qq{SELECT i, i % 4, ('{' || (SELECT string_agg(k::text || ':' || ((hashint4(i + k) % 100) / 10.0 + 0.05)::text, ',')
		FROM (SELECT DISTINCT 1 + abs(hashint4(i * 31 + j)) % ($d / (1 + j)) AS k FROM generate_series(1, 3 + i % 7) j) s)
		|| '}/$d')::sparsevec FROM generate_series($lo, $hi) i};
};

$primary->safe_psql('postgres', qq{
	CREATE TABLE b (id int PRIMARY KEY, label int, v bit(256));
	INSERT INTO b } . $bits->(1, 800, 256) . qq{;
	CREATE INDEX b_ham ON b USING hnsw (v bit_hamming_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX b_jac ON b USING hnsw (v bit_jaccard_ops, label);
	CREATE TABLE bw (id int PRIMARY KEY, label int, v bit(64000));
	INSERT INTO bw } . $bits->(1, 30, 64000) . qq{;
	CREATE INDEX bw_ham ON bw USING hnsw (v bit_hamming_ops);
	CREATE TABLE s (id int PRIMARY KEY, label int, v sparsevec(300));
	INSERT INTO s } . $sparse->(1, 800, 300) . qq{;
	CREATE INDEX s_l2 ON s USING hnsw (v sparsevec_l2_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX s_ip ON s USING hnsw (v sparsevec_ip_ops);
	CREATE INDEX s_cos ON s USING hnsw (v sparsevec_cosine_ops);
	CREATE INDEX s_l1 ON s USING hnsw (v sparsevec_l1_ops, label);
	CREATE TABLE sw (id int PRIMARY KEY, label int, v sparsevec(30000));
	INSERT INTO sw } . $sparse->(1, 300, 30000) . qq{;
	CREATE INDEX sw_ip ON sw USING hnsw (v sparsevec_ip_ops, label);
});

$primary->backup('bk');
my $standby = vecx_standby($primary, 'standby', 'bk', conf => "wal_consistency_checking = 'generic'");

# inserts (new nodes and chains, neighbour updates, filter map entries),
# deletes, vacuum (marks, repairs, freed slots), inserts into freed slots
$primary->safe_psql('postgres', qq{
	INSERT INTO b } . $bits->(801, 1300, 256) . qq{;
	DELETE FROM b WHERE id % 4 = 0;
	VACUUM b;
	INSERT INTO b } . $bits->(1301, 1500, 256) . qq{;
	INSERT INTO bw } . $bits->(31, 50, 64000) . qq{;
	DELETE FROM bw WHERE id % 3 = 0;
	VACUUM bw;
	INSERT INTO bw } . $bits->(51, 60, 64000) . qq{;
	INSERT INTO s } . $sparse->(801, 1300, 300) . qq{;
	DELETE FROM s WHERE id % 4 = 0;
	VACUUM s;
	INSERT INTO s } . $sparse->(1301, 1500, 300) . qq{;
	INSERT INTO sw } . $sparse->(301, 450, 30000) . qq{;
	DELETE FROM sw WHERE id % 3 = 0;
	VACUUM sw;
	INSERT INTO sw } . $sparse->(451, 500, 30000) . qq{;
});
$primary->wait_for_catchup($standby);

# top-20 ids with distances of every index, for a few query rows each
my $q = qq{
	SET enable_seqscan = off;
	SET enable_bitmapscan = off;
	SET hnsw.ef_search = 200;
};
for my $t (['b', '<~>', 0], ['b', '<%>', 1], ['bw', '<~>', 0], ['s', '<->', 0], ['s', '<#>', 0],
	['s', '<=>', 0], ['s', '<+>', 1], ['sw', '<#>', 1])
{
	my ($tab, $op, $filter) = @$t;
	my $where = $filter ? 'WHERE x.label = 1' : '';
	$q .= qq{SELECT '$tab $op ' || g || ': ' || (SELECT string_agg(id::text || '/' || round(d::numeric, 4), ',') FROM
		(SELECT x.id, x.v $op q.v AS d FROM $tab x $where ORDER BY x.v $op q.v LIMIT 20) r)
		FROM (SELECT g, v FROM $tab JOIN unnest(ARRAY[1, 7, 13]) g ON id = g) q;\n};
}
my $p = $primary->safe_psql('postgres', $q);
my $s = $standby->safe_psql('postgres', $q);
is($s, $p, 'the standby answers every index exactly as the primary');
like($p, qr/^b <~> 1: 1\/0\.0000,/m, 'a query row is its own nearest neighbour (hamming)');
like($p, qr/^s <-> 1: 1\/0\.0000,/m, 'a query row is its own nearest neighbour (sparse l2)');
my $plan = $standby->safe_psql('postgres', qq{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM sw ORDER BY v <#> (SELECT v FROM sw LIMIT 1) LIMIT 5});
like($plan, qr/Index Scan using sw_ip/, 'the standby uses the index');

my $check = join(', ', map { "vecx_index_check('$_', true)" }
	qw(b_ham b_jac bw_ham s_l2 s_ip s_cos s_l1 sw_ip));
my $clean = join('|', ('') x 8);
is($standby->safe_psql('postgres', "SELECT $check"), $clean,
	'every replayed index checks clean on the standby');

# crash: more changes, an immediate stop, recovery; the answers are those
# the primary gave before the crash
$primary->safe_psql('postgres', qq{
	INSERT INTO b } . $bits->(1501, 1700, 256) . qq{;
	INSERT INTO s } . $sparse->(1501, 1700, 300) . qq{;
	INSERT INTO sw } . $sparse->(501, 560, 30000) . qq{;
	INSERT INTO bw } . $bits->(61, 66, 64000) . qq{;
	DELETE FROM s WHERE id % 5 = 0;
	VACUUM s;
});
my $before = $primary->safe_psql('postgres', $q);
$primary->stop('immediate');
$primary->start;
my $after = $primary->safe_psql('postgres', $q);
is($after, $before, 'after crash recovery every index answers as before the crash');
is($primary->safe_psql('postgres', "SELECT $check"), $clean,
	'every index checks clean after crash recovery');

# and the recovered indexes keep working: rows inserted after recovery are
# all in the index, and a search finds one.  The row searched for has the
# smallest norm in the table: on these near-orthogonal sparse rows a search
# for an ordinary row misses it now and then however large ef_search is
# (the heuristic leaves some nodes of such data without in-links; README,
# "Limits"), which is about graph quality, not recovery.
$primary->safe_psql('postgres', 'INSERT INTO s ' . $sparse->(5001, 5010, 300)
	. q{; INSERT INTO s VALUES (5011, 1, '{7:0.01}/300')});
is($primary->safe_psql('postgres', "SELECT vecx_index_check('s_l2', true), count(*) FROM s WHERE id > 5000"),
	'|11', 'rows inserted after recovery are all in the index');
is($primary->safe_psql('postgres', qq{SET enable_seqscan = off;
	SELECT id FROM s ORDER BY v <-> '{7:0.01}/300' LIMIT 1}), '5011',
	'a row inserted after recovery is found');

my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no page inconsistency during replay');

$standby->stop;
$primary->stop;
done_testing();
