# 300_recv_fuzz.pl: hostile COPY BINARY input for vector and halfvec.
#
# Builds hundreds of binary COPY files (valid file header, then tuples whose
# field bytes are malformed, mutated or random) for columns of type vector,
# vector(3), halfvec and halfvec(3), and loads each with COPY FROM.  Every
# load must either store a valid value or fail with an ERROR: the server
# must never crash, no stored element may be NaN or infinite, and cases
# whose outcome is known (wrong length, bad dimension, NaN...) must give
# exactly that outcome.  Valid payloads must round-trip byte for byte
# through recv and send (COPY FROM then COPY TO).  Deterministic seed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;
use Time::HiRes qw(time);

# VECX_FUZZ_SEED picks another seed, VECX_FUZZ_SCALE multiplies the number
# of mutated and random cases (for longer runs outside CI).
my $seed = $ENV{VECX_FUZZ_SEED} // 300;
my $scale = $ENV{VECX_FUZZ_SCALE} // 1;
srand($seed);
note "seed $seed";
my $t0 = time;

my $node = vecx_node('recv_fuzz');
my $dir = PostgreSQL::Test::Utils::tempdir;

$node->safe_psql('postgres', q{
CREATE TABLE t_vector (id serial, v vector);
CREATE TABLE t_vector3 (id serial, v vector(3));
CREATE TABLE t_halfvec (id serial, v halfvec);
CREATE TABLE t_halfvec3 (id serial, v halfvec(3));
-- Load one file; report the outcome instead of failing the statement, so
-- that one query can run a whole batch of cases.
CREATE FUNCTION try_copy(tbl text, path text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('COPY %I (v) FROM %L (FORMAT binary)', tbl, path);
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN 'error ' || SQLSTATE || ' ' || SQLERRM;
END
$$;
});
my $start_time = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# ---- binary COPY file pieces ---------------------------------------------

my $file_header = "PGCOPY\n\377\r\n\0" . pack('N', 0) . pack('N', 0);
my $file_trailer = pack('s>', -1);

# One tuple with one field holding $bytes (undef: NULL).
sub tuple
{
	my ($bytes) = @_;
	return pack('s>', 1) . pack('l>', -1) unless defined $bytes;
	return pack('s>', 1) . pack('l>', length($bytes)) . $bytes;
}

# Field bytes: int16 dim, int16 unused, then the element bit patterns.
sub vec_bytes
{
	my ($dim, $unused, $elems, $half) = @_;
	return pack('s>', $dim) . pack('s>', $unused)
	  . join('', map { $half ? pack('n', $_) : pack('N', $_) } @$elems);
}

# Random finite element bit patterns.
sub finite_f32
{
	my $bits;
	do { $bits = int(rand(2**32)) } while ((($bits >> 23) & 0xff) == 0xff);
	return $bits;
}

sub finite_f16
{
	my $bits;
	do { $bits = int(rand(2**16)) } while ((($bits >> 10) & 0x1f) == 0x1f);
	return $bits;
}

# Ordinary values, as the bit patterns of small floats.
sub plain_f32 { return unpack('N', pack('f>', (rand() - 0.5) * 200)); }
sub plain_f16 { return finite_f16() & 0x5fff; }    # |x| < 2, mostly

my @types = (
	{ tbl => 't_vector', half => 0, typmod => undef },
	{ tbl => 't_vector3', half => 0, typmod => 3 },
	{ tbl => 't_halfvec', half => 1, typmod => undef },
	{ tbl => 't_halfvec3', half => 1, typmod => 3 });

my @f32_bad = (0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0x7f800000, 0xff800000);
my @f32_edge = (0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000001, 0x00800000, 0x80000000, 0);
my @f16_bad = (0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xfe00, 0x7fff, 0xffff);
my @f16_edge = (0x7bff, 0xfbff, 0x0001, 0x8001, 0x0400, 0x8000, 0);

# A valid value for a type: [dim, elements]
sub valid_value
{
	my ($t, $dim) = @_;
	$dim //= $t->{typmod} // (1 + int(rand(rand() < 0.9 ? 40 : 3000)));
	my @e;
	for (1 .. $dim)
	{
		my $r = rand();
		if ($t->{half})
		{
			push @e, $r < 0.6 ? plain_f16() : $r < 0.9 ? finite_f16() : $f16_edge[ int(rand(@f16_edge)) ];
		}
		else
		{
			push @e, $r < 0.6 ? plain_f32() : $r < 0.9 ? finite_f32() : $f32_edge[ int(rand(@f32_edge)) ];
		}
	}
	return ($dim, \@e);
}

# ---- the cases -----------------------------------------------------------
# Each case: table, file contents, expected outcome ('ok', an SQLSTATE, or
# 'any'), and a label for diagnostics.

my @cases;
my $nvalid_payloads = 0;

sub add_case
{
	my ($t, $label, $expect, @tuples) = @_;
	push @cases, {
		tbl => $t->{tbl},
		label => "$t->{tbl}: $label",
		expect => $expect,
		data => $file_header . join('', map { tuple($_) } @tuples) . $file_trailer
	};
}

for my $t (@types)
{
	my $h = $t->{half};
	my $es = $h ? 2 : 4;
	my $fixed = $t->{typmod};

	# Valid payloads, several tuples per file, and NULLs.
	for (1 .. 25)
	{
		my @tuples = map { my ($d, $e) = valid_value($t); vec_bytes($d, 0, $e, $h) } 1 .. 1 + int(rand(4));
		add_case($t, 'valid', 'ok', @tuples);
	}
	add_case($t, 'NULL', 'ok', undef);

	# Dimension limits.
	for my $d (1, 2, 3, 4, 16000)
	{
		my ($dd, $e) = valid_value($t, $d);
		my $expect = (!defined $fixed || $fixed == $d) ? 'ok' : '22000';
		add_case($t, "dim $d", $expect, vec_bytes($d, 0, $e, $h));
	}
	for my $d (16001, 32767)
	{
		my ($dd, $e) = valid_value({ half => $h }, $d);
		add_case($t, "dim $d", '54000', vec_bytes($d, 0, $e, $h));
	}
	add_case($t, "dim 16001, no elements", '54000', vec_bytes(16001, 0, [], $h));
	for my $d (0, -1, -3, -16000, -32768)
	{
		add_case($t, "dim $d", '22000', vec_bytes($d, 0, [], $h));
		add_case($t, "dim $d with data", '22000', vec_bytes($d, 0, [ (0) x 3 ], $h));
	}

	# Length disagreeing with the dimension.
	for (1 .. 10)
	{
		my ($d, $e) = valid_value($t);
		my @less = @$e[ 0 .. $#$e - 1 ];
		add_case($t, "dim $d, one element short", '22P03', vec_bytes($d, 0, \@less, $h));
		add_case($t, "dim $d, one element extra", '22P03', vec_bytes($d, 0, [ @$e, 0 ], $h));
		add_case($t, "dim $d, one byte extra", '22P03', vec_bytes($d, 0, $e, $h) . "\0");
		add_case($t, "dim $d, one byte short", '22P03', substr(vec_bytes($d, 0, $e, $h), 0, -1));
	}

	# Truncated header: fewer than 4 bytes.
	add_case($t, "empty field", '08P01', '');
	add_case($t, "1-byte field", '08P01', "\0");
	add_case($t, "2-byte field", '08P01', pack('s>', 3));
	add_case($t, "3-byte field", '08P01', pack('s>', 3) . "\0");

	# The reserved int16 must be zero.
	for my $u (1, -1, 256, 32767)
	{
		my ($d, $e) = valid_value($t);
		add_case($t, "unused $u", '22000', vec_bytes($d, $u, $e, $h));
	}

	# NaN and infinities anywhere in the value; extreme finite values load.
	for my $bad ($h ? @f16_bad : @f32_bad)
	{
		for my $pos (0, 1, 2)
		{
			my ($d, $e) = valid_value($t, $fixed // 3);
			$e->[$pos] = $bad;
			add_case($t, sprintf("special 0x%x at %d", $bad, $pos), '22000', vec_bytes($d, 0, $e, $h));
		}
	}
	for my $edge ($h ? @f16_edge : @f32_edge)
	{
		my ($d, $e) = valid_value($t, $fixed // 3);
		$e->[1] = $edge;
		add_case($t, sprintf("edge 0x%x", $edge), 'ok', vec_bytes($d, 0, $e, $h));
	}

	# A bad tuple after good ones fails the whole file.
	{
		my ($d, $e) = valid_value($t, $fixed // 3);
		my ($d2, $e2) = valid_value($t, $fixed // 3);
		$e2->[0] = $h ? 0x7c00 : 0x7f800000;
		add_case($t, "good then bad tuple", '22000', vec_bytes($d, 0, $e, $h), vec_bytes($d2, 0, $e2, $h));
	}

	# Mutations of valid payloads: flipped bytes, any outcome.
	for (1 .. 120 * $scale)
	{
		my ($d, $e) = valid_value($t);
		my $b = vec_bytes($d, 0, $e, $h);
		for (1 .. 1 + int(rand(4)))
		{
			my $pos = int(rand(length($b)));
			substr($b, $pos, 1) = chr(int(rand(256)));
		}
		add_case($t, "mutated", 'any', $b);
	}

	# Random bytes, random lengths, any outcome.
	for (1 .. 120 * $scale)
	{
		my $len = int(rand(rand() < 0.8 ? 40 : 2000));
		my $b = join('', map { chr(int(rand(256))) } 1 .. $len);
		add_case($t, "random $len bytes", 'any', $b);
	}

	# Random bytes behind a plausible header (dim matching the length).
	for (1 .. 60 * $scale)
	{
		my $d = $fixed // 1 + int(rand(20));
		my $b = pack('s>', $d) . pack('s>', 0) . join('', map { chr(int(rand(256))) } 1 .. $d * $es);
		add_case($t, "random elements, dim $d", 'any', $b);
	}
}

# Broken files: COPY's own framing errors must be errors too.
push @cases, {
	tbl => 't_vector', label => 'truncated file', expect => '22P04',
	data => $file_header . pack('s>', 1) . pack('l>', 12) . pack('s>', 2)
};
push @cases, {
	tbl => 't_vector', label => 'field length beyond the file', expect => '22P04',
	data => $file_header . pack('s>', 1) . pack('l>', 1 << 20) . vec_bytes(1, 0, [0], 0) . $file_trailer
};
push @cases, {
	tbl => 't_halfvec', label => 'negative field length', expect => '22P04',
	data => $file_header . pack('s>', 1) . pack('l>', -2) . $file_trailer
};

sub read_raw
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "open $path: $!";
	local $/;
	my $data = <$fh>;
	close $fh;
	return $data;
}

my $n = scalar @cases;
note "$n cases";

# ---- run them in batches -------------------------------------------------

my %seen;
my $bad = 0;
my $batch = 100;
for (my $i = 0; $i < $n; $i += $batch)
{
	my $last = $i + $batch - 1;
	$last = $n - 1 if $last > $n - 1;
	my @values;
	for my $k ($i .. $last)
	{
		my $path = "$dir/case$k.bin";
		open(my $fh, '>:raw', $path) or die "open $path: $!";
		print $fh $cases[$k]{data};
		close $fh;
		chmod 0644, $path;
		push @values, "($k, '$cases[$k]{tbl}', '$path')";
	}
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT k || '|' || try_copy(tbl, path) FROM (VALUES "
		  . join(', ', @values) . ") c(k, tbl, path) ORDER BY k");
	if ($rc != 0)
	{
		fail("batch from case $i ran (rc $rc): $err");
		last;
	}
	for my $line (split /\n/, $out)
	{
		my ($k, $res) = split /\|/, $line, 2;
		my $c = $cases[$k];
		my $state = $res eq 'ok' ? 'ok' : ($res =~ /^error (\w{5}) / ? $1 : '?');
		$seen{ $state eq 'ok' ? 'loaded' : 'rejected' }++;
		if ($state eq '?' || ($c->{expect} ne 'any' && $c->{expect} ne $state))
		{
			$bad++;
			diag("case $k ($c->{label}): expected $c->{expect}, got $res") if $bad <= 20;
		}
	}
}
is($bad, 0, "each of $n hostile or valid COPY BINARY payloads gives its expected outcome");
note sprintf("loaded %d, rejected %d", $seen{loaded} // 0, $seen{rejected} // 0);
ok(($seen{loaded} // 0) > 100 && ($seen{rejected} // 0) > 300, 'both outcomes were exercised');

# The server never restarted (a crashed backend makes the postmaster
# reinitialise) and still answers.
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $start_time,
	'the server never crashed');
unlike(slurp_file($node->logfile), qr/terminated by signal|server process .* was terminated/,
	'no backend died');

# Nothing non-finite or out of shape got stored.
for my $t (@types)
{
	my $tbl = $t->{tbl};
	is($node->safe_psql('postgres', qq{
SELECT count(*) FROM $tbl, unnest(v::real[]) x
WHERE x = 'NaN'::real OR x = 'Infinity'::real OR x = '-Infinity'::real}),
		'0', "$tbl: no NaN or infinity stored");
	my $dimcheck = defined $t->{typmod} ? "<> $t->{typmod}" : 'NOT BETWEEN 1 AND 16000';
	is($node->safe_psql('postgres', qq{
SELECT count(*) FROM $tbl WHERE vector_dims(v) $dimcheck}), '0', "$tbl: every stored value has a legal dimension");
	my $typ = $t->{half} ? 'halfvec' : 'vector';
	is($node->safe_psql('postgres', qq{
SELECT count(*) FROM $tbl WHERE v::text::$typ <> v}), '0', "$tbl: every stored value reads back from its text form");
}

# ---- round trip: valid payloads come back byte for byte ---------------

for my $t (@types)
{
	my $h = $t->{half};
	my $tbl = $t->{tbl};
	$node->safe_psql('postgres', "CREATE TABLE rt_$tbl (LIKE $tbl INCLUDING ALL)");
	my @tuples;
	for (1 .. 200)
	{
		my ($d, $e) = valid_value($t);
		push @tuples, vec_bytes($d, 0, $e, $h);
	}
	push @tuples, undef;
	my $in = $file_header . join('', map { tuple($_) } @tuples) . $file_trailer;
	my $path = "$dir/rt_$tbl.in";
	open(my $fh, '>:raw', $path) or die;
	print $fh $in;
	close $fh;
	chmod 0644, $path;
	my $outpath = "$dir/rt_$tbl.out";
	$node->safe_psql('postgres', "COPY rt_$tbl (v) FROM '$path' (FORMAT binary)");
	$node->safe_psql('postgres', "COPY (SELECT v FROM rt_$tbl ORDER BY id) TO '$outpath' (FORMAT binary)");
	my $back = read_raw($outpath);
	ok($back eq $in, "$tbl: 201 values round-trip exactly through binary COPY");
}

my $elapsed = time - $t0;
note sprintf("%d cases in %.1f s", $n, $elapsed);
cmp_ok($elapsed, '<', 120, 'bounded run time');

$node->stop;
done_testing();
