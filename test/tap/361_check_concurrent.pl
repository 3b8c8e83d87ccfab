# 361_check_concurrent.pl: vecx_index_check() (with and without
# heapallindexed) finds nothing wrong while inserts, deletes, updates and
# vacuums run against the indexes: it only reports states that concurrent
# activity cannot produce.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;
use Time::HiRes qw(time);

my $node = vecx_node('checkconc', conf => "autovacuum = off\n");
$node->safe_psql('postgres', qq{
	CREATE TABLE c (id int, v vector(4));
	INSERT INTO c SELECT i, ARRAY[random(), random(), random(), (i % 10)::float8]::vector(4)
		FROM generate_series(1, 3000) i;
	CREATE INDEX c_h ON c USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
	CREATE INDEX c_hc ON c USING hnsw (v vector_cosine_ops) WITH (m = 4, ef_construction = 16);
	CREATE INDEX c_i ON c USING ivfpq (v vector_l2_ops) WITH (lists = 8);
	CREATE INDEX c_i8 ON c USING ivfpq (v vector_ip_ops) WITH (lists = 8, pq_bits = 8);
});

my $dir = PostgreSQL::Test::Utils::tempdir;
write_file("$dir/dml.sql", q{\set id random(1, 100000)
INSERT INTO c VALUES (:id, ARRAY[random(), random(), random(), (:id % 10)::float8]::vector(4));
DELETE FROM c WHERE id = :id / 2;
UPDATE c SET v = v + '[0.5,0,0,0]' WHERE id = :id / 3;
});
write_file("$dir/vac.sql", "VACUUM c;\n");

my ($pout, $perr) = ('', '');
my $seconds = 20;
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-T', $seconds, '-f', "$dir/dml.sql\@30", '-f', "$dir/vac.sql\@1",
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$pout, '2>', \$perr);

my $end = time() + $seconds - 2;
my ($runs, @failures) = (0);
while (time() < $end)
{
	for my $idx (qw(c_h c_hc c_i c_i8))
	{
		for my $hai (qw(false true))
		{
			my ($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('$idx', $hai)");
			$runs++;
			push @failures, "$idx/$hai: $err" if $rc != 0;
		}
	}
}
$bench->finish;
like($pout, qr/number of transactions actually processed: [1-9]/, 'the workload ran') or diag($perr);
cmp_ok($runs, '>=', 8, "checks ran during the workload ($runs)");
is(scalar(@failures), 0, 'no check reported damage under concurrent changes')
  or diag(join("\n", @failures[0 .. ($#failures < 4 ? $#failures : 4)]));

# and once quiet, with everything vacuumed
$node->safe_psql('postgres', 'VACUUM c');
for my $idx (qw(c_h c_hc c_i c_i8))
{
	is($node->safe_psql('postgres', "SELECT vecx_index_check('$idx', true)"), '', "$idx passes at rest");
}
$node->stop;
done_testing();
