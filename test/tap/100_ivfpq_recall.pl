# 100_ivfpq_recall.pl: recall@10 of ivfpq on a Fashion-MNIST subset against
# exact results, exactness with every list probed, index size bound, and the
# same for the cosine and halfvec operator classes.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;

my $node = vecx_node('ivfpq_recall', conf => "maintenance_work_mem = 256MB\nshared_buffers = 256MB");

my $nbase = 10000;
my $nq = 50;
fmnist_tables($node, $tmp, $nbase, $nq);
is($node->safe_psql('postgres', 'SELECT count(*) FROM fm'), $nbase, 'base rows loaded');

# exact answers, for each metric
$node->safe_psql('postgres', q{
	SET enable_indexscan = off;
	CREATE TABLE gt_l2 AS SELECT q.id, array(SELECT f.id FROM fm f ORDER BY f.v <-> q.v, f.id LIMIT 10) ids FROM fq q;
	CREATE TABLE gt_cos AS SELECT q.id, array(SELECT f.id FROM fm f ORDER BY f.v <=> q.v, f.id LIMIT 10) ids FROM fq q;
	CREATE TABLE gt_ip AS SELECT q.id, array(SELECT f.id FROM fm f ORDER BY f.v <#> q.v, f.id LIMIT 10) ids FROM fq q;
});

sub recall
{
	my ($op, $gt, $probes, $expr) = @_;
	$expr //= 'f.v';
	my $qexpr = $expr;
	$qexpr =~ s/f\.v/q.v/;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET ivfpq.probes = $probes;
		SELECT round(sum(cardinality(array(SELECT unnest(a.ids) INTERSECT SELECT unnest(g.ids))))::numeric / (10 * count(*)), 3)
		FROM (SELECT q.id, array(SELECT f.id FROM fm f ORDER BY $expr $op $qexpr LIMIT 10) ids FROM fq q) a
		JOIN $gt g USING (id)});
}

# build in the background and watch pg_stat_progress_create_index
my $t0 = time;
my ($bout, $berr) = ('', '');
my $build = IPC::Run::start(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
	  '-c', 'CREATE INDEX fm_l2 ON fm USING ivfpq (v vector_l2_ops) WITH (lists = 64)' ],
	'>', \$bout, '2>', \$berr);
my %phases;
while ($build->pumpable)
{
	my $p = $node->safe_psql('postgres',
		"SELECT phase || ' ' || tuples_done FROM pg_stat_progress_create_index");
	$phases{$1} = 1 if $p =~ /^building index: (.*) \d+$/;
	$build->pump_nb;
	select(undef, undef, undef, 0.02);
}
$build->finish;
is($build->result(0), 0, 'background build succeeded') or diag($berr);
note('build seconds: ' . (time - $t0) . '; phases seen: ' . join(', ', sort keys %phases));
ok((grep { /^(sampling rows|performing k-means|training product quantizer|assigning and encoding tuples)$/ } keys %phases),
	'build reports its phases in pg_stat_progress_create_index');

like($node->safe_psql('postgres', q{SET enable_seqscan = off;
	EXPLAIN (costs off) SELECT q.id, array(SELECT f.id FROM fm f ORDER BY f.v <-> q.v LIMIT 10) FROM fq q}),
	qr/Index Scan using fm_l2/, 'lateral k-NN uses the index');

my $r = recall('<->', 'gt_l2', 8);
note("l2 recall\@10 probes=8: $r");
cmp_ok($r, '>=', 0.95, 'l2 recall@10 with 8 of 64 lists');

# past work_mem a scan stops keeping blocks for refinement; the answers
# (exact within the probed lists) must not change
my $r2 = recall('<->', 'gt_l2', 2);
note("l2 recall\@10 probes=2: $r2");
$node->append_conf('postgresql.conf', "work_mem = '64kB'");
$node->reload;
is(recall('<->', 'gt_l2', 2), $r2, 'same recall when blocks exceed work_mem');
$node->append_conf('postgresql.conf', "work_mem = '4MB'");
$node->reload;
$r = recall('<->', 'gt_l2', 64);
cmp_ok($r, '>=', 0.99, 'l2 recall@10 with every list probed');

# results come in exact distance order
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfpq.probes = 4;
	SELECT bool_and(d >= p) FROM (SELECT d, lag(d, 1, 0::float8) OVER () p FROM (
		SELECT f.v <-> (SELECT v FROM fq WHERE id = 3) d FROM fm f ORDER BY f.v <-> (SELECT v FROM fq WHERE id = 3) LIMIT 100) s) t}),
	't', 'rows returned in exact distance order');

# several times smaller than the vectors
my $size = $node->safe_psql('postgres', q{SELECT pg_relation_size('fm_l2')});
note("index bytes: $size, raw vector bytes: " . ($nbase * 784 * 4));
cmp_ok($size, '<=', 0.3 * $nbase * 784 * 4, 'index is at most 0.3x the raw float32 bytes');
$node->safe_psql('postgres', 'DROP INDEX fm_l2');

$node->safe_psql('postgres', 'CREATE INDEX fm_cos ON fm USING ivfpq (v vector_cosine_ops) WITH (lists = 64)');
$r = recall('<=>', 'gt_cos', 8);
note("cosine recall\@10 probes=8: $r");
cmp_ok($r, '>=', 0.95, 'cosine recall@10 with 8 of 64 lists');
$node->safe_psql('postgres', 'DROP INDEX fm_cos');

# inner product: the bounds must hold (the executor raises an error when an
# exact distance is below the bound) and every list probed is exact
$node->safe_psql('postgres', 'CREATE INDEX fm_ip ON fm USING ivfpq (v vector_ip_ops) WITH (lists = 64)');
$r = recall('<#>', 'gt_ip', 8);
note("ip recall\@10 probes=8: $r");
cmp_ok($r, '>=', 0.85, 'ip recall@10 with 8 of 64 lists');
cmp_ok(recall('<#>', 'gt_ip', 64), '>=', 0.99, 'ip recall@10 with every list probed');
$node->safe_psql('postgres', 'DROP INDEX fm_ip');

$node->safe_psql('postgres',
	'CREATE INDEX fm_half ON fm USING ivfpq ((v::halfvec(784)) halfvec_l2_ops) WITH (lists = 64)');
$r = recall('<->', 'gt_l2', 8, 'f.v::halfvec(784)');
note("halfvec recall\@10 probes=8: $r");
cmp_ok($r, '>=', 0.95, 'halfvec recall@10 with 8 of 64 lists');

$node->stop;
done_testing();
