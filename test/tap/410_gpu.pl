# 410_gpu.pl: vecx.gpu on whatever machine this is.  Without a usable GPU:
# SET vecx.gpu = on fails at once with SQLSTATE 55000 and the reason, a
# value of "on" from elsewhere (connection options) fails the first build
# with 55000, and builds under auto are identical to builds under off.
# With a GPU: "on" is accepted, and builds under on find the same
# neighbours as under off (the GPU assigns by exact L2, the CPU through
# sgemm: they may part only at near-ties, so recall is compared).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('gpu');

my $info = $node->safe_psql('postgres',
	q{SELECT coalesce(device::text, '-') || '|' || status FROM vecx_gpu_info()});
my $has_gpu = $info !~ /^-\|/;
diag("vecx_gpu_info: $info");

$node->safe_psql('postgres', q{
	CREATE TABLE g (id int, v vector(16));
	INSERT INTO g SELECT i, array(SELECT sin(i * j * 0.37) + (i % 11) * 0.1 FROM generate_series(1, 16) j)::real[]::vector
		FROM generate_series(1, 6000) i;
	CREATE TABLE gq AS SELECT i AS qid, v FROM g JOIN generate_series(1, 6000, 97) i ON id = i;
});

# The ids of the 10 nearest of each query through an index, as text.
sub answers
{
	my ($am, $mode) = @_;
	my $probes = $am eq 'ivfpq' ? 'SET ivfpq.probes = 3' : 'SET ivfflat.probes = 3';
	return $node->safe_psql('postgres', qq{
		SET vecx.gpu = $mode;
		CREATE INDEX gi ON g USING $am (v vector_l2_ops) WITH (lists = 24);
		SET enable_seqscan = off;
		$probes;
		SELECT string_agg(qid || ':' || array(SELECT id FROM g ORDER BY g.v <-> gq.v LIMIT 10)::text, E'\\n' ORDER BY qid) FROM gq;
		DROP INDEX gi;
	});
}

if (!$has_gpu)
{
	my ($rc, $out, $err) = $node->psql('postgres', q{
		\set VERBOSITY verbose
		LOAD 'vecx';
		SET vecx.gpu = on});
	isnt($rc, 0, 'SET vecx.gpu = on fails without a device');
	like($err, qr/ERROR:  55000: vecx\.gpu cannot be "on": no usable GPU/, 'error: SQLSTATE 55000 and message');
	like($err, qr/DETAIL:  (library missing|library unusable|driver missing|driver unusable|cuInit failed|no device|CUDA runtime|device \d+)/,
		'detail gives the reason');
	like($err, qr/HINT:  Use vecx\.gpu = auto/, 'hint points to auto');

	# "on" from a connection option: accepted there, the build fails
	$ENV{PGOPTIONS} = '-c vecx.gpu=on';
	($rc, $out, $err) = $node->psql('postgres', q{
		\set VERBOSITY verbose
		SHOW vecx.gpu;
		CREATE INDEX gi_on ON g USING ivfpq (v vector_l2_ops) WITH (lists = 4)});
	delete $ENV{PGOPTIONS};
	is($out, 'on', 'vecx.gpu = on from connection options is accepted');
	like($err, qr/ERROR:  55000: vecx\.gpu is "on" but there is no usable GPU/, 'the build fails with 55000');

	for my $am ('ivfpq', 'ivfflat')
	{
		my $off = answers($am, 'off');
		my $auto = answers($am, 'auto');
		ok(length($off) > 1000, "$am: answers read");
		is($auto, $off, "$am: build under auto (no device: the CPU) identical to off");
	}
}
else
{
	is($node->safe_psql('postgres', 'SET vecx.gpu = on; SHOW vecx.gpu'), 'on', 'SET vecx.gpu = on accepted with a device');
	for my $am ('ivfpq', 'ivfflat')
	{
		my @off = split /\n/, answers($am, 'off');
		my @on = split /\n/, answers($am, 'on');
		my ($same, $all) = (0, 0);
		for my $i (0 .. $#off)
		{
			my %o = map { $_ => 1 } ($off[$i] =~ /(\d+)/g)[1 .. 10];
			$all += 10;
			$same += grep { $o{$_} } ($on[$i] =~ /(\d+)/g)[1 .. 10];
		}
		cmp_ok($same / $all, '>=', 0.95, "$am: GPU build finds the CPU build's neighbours ($same of $all)");
	}
}

done_testing();
