# 200_filter_fmnist.pl: filtered nearest-neighbour queries on a
# Fashion-MNIST subset with its real labels, at default settings: rows
# returned (always k when k match), recall against the exact filtered
# answer, plan choice, plain and multicolumn hnsw indexes, partial indexes,
# joins and prepared statements with generic plans.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('filter', conf => "shared_buffers = 256MB\nmaintenance_work_mem = 512MB");
fmnist_filter_tables($node);

# One query per test vector with constants (custom plans, like a client
# sending literals): returns "rows recall plans" where plans counts the
# queries that used an index scan on an hnsw index.
sub run_filtered
{
	my ($where, $gt) = @_;
	my $out = $node->safe_psql('postgres', qq{
		CREATE TEMP TABLE res (qid int, tid int);
		CREATE TEMP TABLE plans (qid int, hnsw bool);
		DO \$\$
		DECLARE r record; line text; h bool;
		BEGIN
			FOR r IN SELECT * FROM q LOOP
				h := false;
				FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM t WHERE $where
						ORDER BY v <-> %4\$L LIMIT 10', r.label, r.bucket, r.sub, r.v::text) LOOP
					h := h OR line ~ 'Index Scan using t_(v|part)';
				END LOOP;
				INSERT INTO plans VALUES (r.id, h);
				EXECUTE format('INSERT INTO res SELECT %5\$s, id FROM (SELECT id FROM t WHERE $where
						ORDER BY v <-> %4\$L LIMIT 10) s', r.label, r.bucket, r.sub, r.v::text, r.id);
			END LOOP;
		END \$\$;
		SELECT (SELECT count(*) FROM res) || ' ' ||
			(SELECT round(count(*)::numeric / (SELECT count(*) FROM $gt), 3) FROM $gt JOIN res USING (qid, tid)) || ' ' ||
			(SELECT count(*) FROM plans WHERE hnsw) || ' ' ||
			(SELECT min(c) FROM (SELECT count(*) c FROM res GROUP BY qid) s);
	});
	return split / /, $out;
}

my $w1 = 'label = %1$s';
my $w2 = 'label = %1$s AND bucket = %2$s';
my $w3 = 'label = %1$s AND bucket = %2$s AND sub = %3$s';

# plain index: 10% through the index, 1% and 0.1% exact (no other index)
$node->safe_psql('postgres', 'CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops)');
my ($n, $r, $p, $min) = run_filtered($w1, 'gt1');
is($n, 1000, 'plain index, 10%: always 10 rows');
cmp_ok($r, '>=', 0.9, "plain index, 10%: recall\@10 ($r)");
cmp_ok($p, '>=', 90, "plain index, 10%: the index is used ($p of 100)");
($n, $r, $p) = run_filtered($w2, 'gt2');
is($n, 1000, 'plain index, 1%: always 10 rows');
cmp_ok($r, '>=', 0.95, "plain index, 1%: recall\@10 ($r)");
($n, $r, $p) = run_filtered($w3, 'gt3');
my $want3 = $node->safe_psql('postgres', 'SELECT count(*) FROM gt3');
is($n, $want3, "plain index, 0.1%: every query gets min(10, matches) rows ($n)");
cmp_ok($r, '>=', 0.99, "plain index, 0.1%: exact plan ($r)");
is($p, 0, 'plain index, 0.1%: the exact plan is chosen');

# forced through the plain index, still k rows
($n) = split / /, $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*) FROM q, LATERAL (SELECT id FROM t WHERE t.label = q.label AND t.bucket = q.bucket
		ORDER BY t.v <-> q.v LIMIT 10) s});
is($n, 1000, 'plain index forced at 1%: always 10 rows');

# multicolumn index: the filter goes into the walk
# The multicolumn index builds in parallel like a plain one.  A serial
# build of the same index must give the same filtered answers (up to the
# graph's own randomness: compare how many rows each returns and how many
# of them are true neighbours).
$node->safe_psql('postgres', qq{SET max_parallel_maintenance_workers = 0;
	CREATE INDEX t_v_lb_serial ON t USING hnsw (v vector_l2_ops, label, bucket, sub)});
my ($rc, $out, $err) = $node->psql('postgres', qq{SET client_min_messages = debug1;
	SET max_parallel_maintenance_workers = 2;
	SET min_parallel_table_scan_size = 0;
	CREATE INDEX t_v_lb ON t USING hnsw (v vector_l2_ops, label, bucket, sub)});
is($rc, 0, 'parallel build of the multicolumn index succeeds');
like($err, qr/building hnsw index "t_v_lb" with [12] parallel workers/,
	'and used parallel workers');
is($node->safe_psql('postgres', qq{SELECT vecx_index_check('t_v_lb', true)}),
	'', 'the parallel multicolumn index passes vecx_index_check with heapallindexed');
my %built;
for my $ix ('t_v_lb', 't_v_lb_serial')
{
	my $other = $ix eq 't_v_lb' ? 't_v_lb_serial' : 't_v_lb';
	$built{$ix} = $node->safe_psql('postgres', qq{
		BEGIN;
		UPDATE pg_index SET indisvalid = false WHERE indexrelid = '$other'::regclass;
		SET LOCAL enable_seqscan = off;
		SET LOCAL enable_bitmapscan = off;
		CREATE TEMP TABLE res ON COMMIT DROP AS SELECT q.id AS qid, s.id AS tid FROM q,
			LATERAL (SELECT id FROM t WHERE t.label = q.label AND t.bucket = q.bucket
				ORDER BY t.v <-> q.v LIMIT 10) s;
		SELECT count(*) || ' ' || (SELECT count(*) FROM gt2 JOIN res USING (qid, tid)) FROM res;
		ROLLBACK;});
}
my ($pn, $pr) = split / /, $built{t_v_lb};
my ($sn, $sr) = split / /, $built{t_v_lb_serial};
is($pn, $sn, "parallel and serial multicolumn builds return as many rows at 1% ($pn, $sn)");
cmp_ok(abs($pr - $sr), '<=', 20, "and about as many true neighbours ($pr, $sr of 1000)");
$node->safe_psql('postgres', 'DROP INDEX t_v_lb_serial');
my $plan = $node->safe_psql('postgres', qq{
	EXPLAIN (COSTS OFF) SELECT id FROM t WHERE label = 3 ORDER BY v <-> (SELECT v FROM q LIMIT 1) LIMIT 10});
like($plan, qr/Index Scan using t_v_lb.*\n.*Index Cond: \(label = 3\)/, 'the multicolumn index is chosen with an Index Cond');
($n, $r, $p) = run_filtered($w1, 'gt1');
is($n, 1000, 'multicolumn, 10%: always 10 rows');
cmp_ok($r, '>=', 0.95, "multicolumn, 10%: recall\@10 ($r)");
cmp_ok($p, '>=', 90, "multicolumn, 10%: the index is used ($p of 100)");
$node->safe_psql('postgres', 'SET enable_seqscan = off');
($n, $r) = split / /, $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	CREATE TEMP TABLE res AS SELECT q.id AS qid, s.id AS tid FROM q, LATERAL (SELECT id FROM t
		WHERE t.label = q.label AND t.bucket = q.bucket ORDER BY t.v <-> q.v LIMIT 10) s;
	SELECT count(*) || ' ' || (SELECT round(count(*)::numeric / 1000, 3) FROM gt2 JOIN res USING (qid, tid)) FROM res});
is($n, 1000, 'multicolumn forced at 1% (a join): always 10 rows');
cmp_ok($r, '>=', 0.99, "multicolumn forced at 1%: the exact pass ($r)");

# prepared statements, generic plans (PL/pgSQL's static SQL goes through
# the plan cache with its variables as parameters)
($n, $r) = fmnist_filter_generic($node);
is($n, 1000, 'generic plans: always 10 rows');
cmp_ok($r, '>=', 0.95, "generic plans: recall\@10 ($r)");
$plan = $node->safe_psql('postgres', qq{
	SET plan_cache_mode = force_generic_plan;
	PREPARE p(int, vector) AS SELECT id FROM t WHERE label = \$1 ORDER BY v <-> \$2 LIMIT 10;
	EXPLAIN (COSTS OFF) EXECUTE p(3, array_fill(100::real, ARRAY[784])::vector)});
like($plan, qr/Index Cond: \(label = \$1\)/, 'the generic plan filters in the index');

# partial index on one label
$node->safe_psql('postgres', qq{
	DROP INDEX t_v_lb; DROP INDEX t_v;
	CREATE INDEX t_part ON t USING hnsw (v vector_l2_ops) WHERE label = 3});
($n, $r) = split / /, $node->safe_psql('postgres', qq{
	CREATE TEMP TABLE res AS SELECT q.id AS qid, s.id AS tid FROM q, LATERAL (SELECT id FROM t
		WHERE t.label = 3 ORDER BY t.v <-> q.v LIMIT 10) s;
	SET enable_indexscan = off;
	CREATE TEMP TABLE gtp AS SELECT q.id AS qid, s.id AS tid FROM q, LATERAL (SELECT id FROM t
		WHERE t.label = 3 ORDER BY t.v <-> q.v LIMIT 10) s;
	SELECT count(*) || ' ' || (SELECT round(count(*)::numeric / 1000, 3) FROM gtp JOIN res USING (qid, tid)) FROM res});
is($n, 1000, 'partial index: always 10 rows');
cmp_ok($r, '>=', 0.95, "partial index: recall\@10 ($r)");

$node->stop;
done_testing();
