# 201_ivfpq_filter.pl: filtered nearest-neighbour queries through ivfpq
# indexes on a Fashion-MNIST subset with its real labels, at default
# settings (ivfpq.probes = 1, iterative strict_order scans): rows returned
# (always k when k match), recall against the exact filtered answer, plan
# choice, plain and multicolumn indexes, joins, generic plans, and
# vecx_index_check after inserts, deletes and vacuum.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('ivfpqfilter', conf => "shared_buffers = 256MB\nmaintenance_work_mem = 512MB");
fmnist_filter_tables($node);
$node->safe_psql('postgres', qq{
	SET enable_indexscan = off;
	CREATE TABLE gt0 AS SELECT q.id AS qid, s.id AS tid FROM q,
		LATERAL (SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) s;
	CREATE INDEX t_label ON t (label);
	CREATE INDEX t_bucket ON t (bucket);
	CREATE INDEX t_lbs ON t (label, bucket, sub);
});

# One query per test vector with constants (custom plans): returns
# "rows recall plans minrows ordered" where plans counts the queries that
# used an ivfpq index scan and ordered the queries whose rows came in
# distance order.
sub run_filtered
{
	my ($where, $gt, $set) = @_;
	$set //= '';
	my $out = $node->safe_psql('postgres', qq{
		$set;
		CREATE TEMP TABLE res (qid int, tid int, d float8, n int);
		CREATE TEMP TABLE plans (qid int, ivf bool);
		DO \$\$
		DECLARE r record; line text; h bool;
		BEGIN
			FOR r IN SELECT * FROM q LOOP
				h := false;
				FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM t WHERE $where
						ORDER BY v <-> %4\$L LIMIT 10', r.label, r.bucket, r.sub, r.v::text) LOOP
					h := h OR line ~ 'Index Scan using t_v';
				END LOOP;
				INSERT INTO plans VALUES (r.id, h);
				EXECUTE format('INSERT INTO res SELECT %5\$s, id, d, row_number() OVER () FROM
						(SELECT id, v <-> %4\$L AS d FROM t WHERE $where ORDER BY v <-> %4\$L LIMIT 10) s',
						r.label, r.bucket, r.sub, r.v::text, r.id);
			END LOOP;
		END \$\$;
		SELECT (SELECT count(*) FROM res) || ' ' ||
			(SELECT round(count(*)::numeric / (SELECT count(*) FROM $gt), 3) FROM $gt JOIN res USING (qid, tid)) || ' ' ||
			(SELECT count(*) FROM plans WHERE ivf) || ' ' ||
			(SELECT min(c) FROM (SELECT count(*) c FROM res GROUP BY qid) s) || ' ' ||
			(SELECT count(*) FROM res a JOIN res b ON a.qid = b.qid AND b.n = a.n + 1 WHERE b.d < a.d);
	});
	return split / /, $out;
}

my $w1 = 'label = %1$s';
my $w2 = 'label = %1$s AND bucket = %2$s';
my $w3 = 'label = %1$s AND bucket = %2$s AND sub = %3$s';
my $want3 = $node->safe_psql('postgres', 'SELECT count(*) FROM gt3');

# plain index (default settings, lists = 100, probes = 1)
$node->safe_psql('postgres', 'CREATE INDEX t_v ON t USING ivfpq (v vector_l2_ops) WITH (lists = 100)');
# Through a plain index the scan cannot see a filter on the table: it
# merges further lists only once the executor has taken half of the first
# round's candidates, so its recall is about that of the unfiltered scan
# at ivfpq.probes = 1 (the baseline); a multicolumn index does better.
my ($n, $r0) = run_filtered('true', 'gt0');
is($n, 1000, 'plain index, unfiltered: 10 rows');
my ($r, $p, $min, $bad);
($n, $r, $p, $min, $bad) = run_filtered($w1, 'gt1');
is($n, 1000, 'plain index, 10%: always 10 rows');
is($bad, 0, 'plain index, 10%: rows in distance order');
cmp_ok($r, '>=', $r0 - 0.1, "plain index, 10%: recall\@10 ($r) about the unfiltered one ($r0)");
cmp_ok($p, '>=', 90, "plain index, 10%: the index is used ($p of 100)");
($n, $r, $p) = run_filtered($w2, 'gt2');
is($n, 1000, 'plain index, 1%: always 10 rows');
cmp_ok($r, '>=', 0.95, "plain index, 1%: recall\@10 ($r)");
is($p, 0, 'plain index, 1%: an exact plan is chosen');
($n, $r, $p) = run_filtered($w3, 'gt3');
is($n, $want3, "plain index, 0.1%: every query gets min(10, matches) rows ($n)");
cmp_ok($r, '>=', 0.99, "plain index, 0.1%: exact plan ($r)");
is($p, 0, 'plain index, 0.1%: the exact plan is chosen');

# forced through the plain index: still k rows, in order
($n, $r, $p, $min, $bad) = run_filtered($w2, 'gt2', 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off');
is($n, 1000, 'plain index forced at 1%: always 10 rows');
is($bad, 0, 'plain index forced at 1%: rows in distance order');
cmp_ok($r, '>=', $r0 - 0.1, "plain index forced at 1%: recall\@10 ($r), unfiltered $r0");
cmp_ok($p, '>=', 99, "plain index forced at 1%: through the index ($p)");

# multicolumn index: the filter is checked while the lists are scanned
$node->safe_psql('postgres', 'CREATE INDEX t_vm ON t USING ivfpq (v vector_l2_ops, label, bucket, sub) WITH (lists = 100)');
is($node->safe_psql('postgres', q{SELECT vecx_index_check('t_vm', true)}), '', 'multicolumn index passes vecx_index_check');
my $plan = $node->safe_psql('postgres', qq{
	EXPLAIN (COSTS OFF) SELECT id FROM t WHERE label = 3 ORDER BY v <-> (SELECT v FROM q LIMIT 1) LIMIT 10});
like($plan, qr/Index Scan using t_vm.*\n.*Index Cond: \(label = 3\)/, 'the multicolumn index is chosen with an Index Cond');
($n, $r, $p, $min, $bad) = run_filtered($w1, 'gt1');
is($n, 1000, 'multicolumn, 10%: always 10 rows');
is($bad, 0, 'multicolumn, 10%: rows in distance order');
cmp_ok($r, '>=', 0.95, "multicolumn, 10%: recall\@10 ($r)");
cmp_ok($p, '>=', 90, "multicolumn, 10%: the index is used ($p of 100)");
($n, $r, $p, $min, $bad) = run_filtered($w2, 'gt2');
is($n, 1000, 'multicolumn, 1%: always 10 rows');
is($bad, 0, 'multicolumn, 1%: rows in distance order');
cmp_ok($r, '>=', 0.95, "multicolumn, 1%: recall\@10 ($r)");
cmp_ok($p, '>=', 90, "multicolumn, 1%: the index is used ($p of 100)");
($n, $r, $p, $min, $bad) = run_filtered($w3, 'gt3', 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; DROP INDEX t_lbs');
is($n, $want3, "multicolumn forced at 0.1%: min(10, matches) rows ($n)");
is($bad, 0, 'multicolumn forced at 0.1%: rows in distance order');
cmp_ok($r, '>=', 0.95, "multicolumn forced at 0.1%: recall\@10 ($r)");

# a join, and prepared statements with generic plans
($n, $r) = split / /, $node->safe_psql('postgres', qq{
	CREATE TEMP TABLE res AS SELECT q.id AS qid, s.id AS tid FROM q, LATERAL (SELECT id FROM t
		WHERE t.label = q.label AND t.bucket = q.bucket ORDER BY t.v <-> q.v LIMIT 10) s;
	SELECT count(*) || ' ' || (SELECT round(count(*)::numeric / 1000, 3) FROM gt2 JOIN res USING (qid, tid)) FROM res});
is($n, 1000, 'join at 1%: always 10 rows');
cmp_ok($r, '>=', 0.95, "join at 1%: recall\@10 ($r)");
($n, $r) = fmnist_filter_generic($node);
is($n, 1000, 'generic plans: always 10 rows');
cmp_ok($r, '>=', 0.95, "generic plans: recall\@10 ($r)");
$plan = $node->safe_psql('postgres', qq{
	SET plan_cache_mode = force_generic_plan;
	PREPARE p(int, vector) AS SELECT id FROM t WHERE label = \$1 ORDER BY v <-> \$2 LIMIT 10;
	EXPLAIN (COSTS OFF) EXECUTE p(3, array_fill(100::real, ARRAY[784])::vector)});
like($plan, qr/Index Scan using t_vm.*\n.*Index Cond: \(label = \$1\)/, 'the generic plan filters in the index');

# inserts, deletes, vacuum: the index stays valid and filters right
$node->safe_psql('postgres', qq{
	INSERT INTO t SELECT id + 100000, (label + 1) % 10, v, bucket, sub FROM t WHERE id % 5 = 0;
	DELETE FROM t WHERE id % 3 = 0;
	VACUUM t});
is($node->safe_psql('postgres', q{SELECT vecx_index_check('t_vm', true)}), '',
	'multicolumn index passes vecx_index_check after inserts, deletes and vacuum');
is($node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*) FROM q, LATERAL (SELECT id, label FROM t WHERE t.label = q.label AND t.bucket = q.bucket
		ORDER BY t.v <-> q.v LIMIT 10) s WHERE s.label = q.label AND s.id % 3 <> 0}), '1000',
	'after vacuum: 10 live matching rows per query');

$node->stop;
done_testing();
