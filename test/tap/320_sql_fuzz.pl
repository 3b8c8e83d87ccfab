# 320_sql_fuzz.pl: every SQL-callable function and aggregate of the
# extension, called with random and extreme arguments.
#
# The functions are taken from the catalog (members of the extension), so
# new ones are covered as they are added.  Arguments come from pools of
# hostile values for each argument type: vectors of mismatched and extreme
# sizes (1..16000), extreme and subnormal elements, odd typmods, malformed
# float8[] aggregate states (NaN, infinities, negative counts, NULLs, two
# dimensions...).  Every call must either return or raise an ERROR that is
# not an internal error (SQLSTATE class XX: elog, "cannot happen"); the
# server must never crash; a vector or halfvec result must hold only
# finite elements.  Deterministic seed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;
use Time::HiRes qw(time);

my $seed = $ENV{VECX_FUZZ_SEED} // 320;
my $scale = $ENV{VECX_FUZZ_SCALE} // 1;
srand($seed);
note "seed $seed";
my $t0 = time;

my $node = vecx_node('sql_fuzz');
$node->safe_psql('postgres', q{
-- Run one call; report 'ok', or the SQLSTATE of its error, then '|' and
-- the number of non-finite elements in the result (vector results only).
CREATE FUNCTION try_call(q text, vec_result bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	bad int := 0;
BEGIN
	IF vec_result THEN
		EXECUTE format('SELECT count(*) FROM unnest((%s)::real[]) e
			WHERE e = ''NaN''::real OR e = ''Infinity''::real OR e = ''-Infinity''::real', q) INTO bad;
	ELSE
		EXECUTE 'SELECT (' || q || ')::text';
	END IF;
	RETURN 'ok|' || bad;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || '|0|' || SQLERRM;
END
$$;
});
my $start_time = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# The extension's functions and aggregates with their argument types.
my @funcs;
for my $line (split /\n/, $node->safe_psql('postgres', q{
SELECT p.prokind, p.oid::regproc, format_type(p.prorettype, NULL),
	array_to_string(ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t), ',')
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
	AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vecx'
ORDER BY p.oid}))
{
	my ($kind, $name, $ret, $args) = split /\|/, $line;
	my @args = split /,/, $args;
	# Functions taking internal (type I/O receive, AM handlers) cannot be
	# called from SQL; cstring ones are the text I/O, covered elsewhere.
	next if grep { /internal|cstring/ } @args;
	push @funcs, { kind => $kind, name => $name, ret => $ret, args => \@args };
}
note scalar(@funcs) . " callable functions and aggregates";
cmp_ok(scalar(@funcs), '>', 50, 'found the extension\'s functions in the catalog');

# ---- value pools ----------------------------------------------------------

my @dims = (1, 1, 2, 3, 3, 3, 4, 7, 8, 15, 16, 17, 33, 100, 1000, 2049, 16000);
my @f32 = ('0', '-0', '1', '-1', '0.5', '1e-45', '-1e-45', '1e-38', '1.1754944e-38', '3.4028235e38',
	'-3.4028235e38', '1e-23', '1e19', '65504', '65520', '-65520', '1e30', '1e-30', '123.456');
my @f16 = ('0', '-0', '1', '-1', '0.5', '6e-8', '-6e-8', '6.1e-5', '65504', '-65504', '1e-5', '3.14',
	'256', '0.099975586');
my @ints = ('0', '1', '-1', '2', '3', '4', '16000', '16001', '2147483647', '-2147483648', '-3');
my @float8_elems = ('0', '1', '-1', '2', '0.5', '1e-320', '1e308', '-1e308', 'NaN', 'Infinity', '-Infinity', '3e38', '1e-40');

my @relations;    # regclass arguments, filled in once the relations exist

sub pick { return $_[ int(rand(@_)) ]; }

my $cur_dim = 3;    # dimension shared by the vector arguments of one call

sub vec_literal
{
	my ($type) = @_;
	# Mostly the call's shared dimension, sometimes a different one.
	my $dim = rand() < 0.8 ? $cur_dim : pick(@dims);
	my @pool = $type eq 'halfvec' ? @f16 : @f32;
	if ($dim > 64)
	{
		# Large values: a constant element, built on the server.
		my $e = pick(@pool);
		$e = '1' if $type eq 'halfvec' && $e =~ /6552/;
		return "array_fill('$e'::real, ARRAY[$dim])::$type";
	}
	my @e = map { rand() < 0.3 ? pick(@pool) : sprintf('%.4g', (rand() - 0.5) * 10) } 1 .. $dim;
	@e = map { $_ =~ /^-?6552/ ? '1' : $_ } @e if $type eq 'halfvec';
	return "'[" . join(',', @e) . "]'::$type";
}

sub array_literal
{
	my ($elemtype) = @_;
	my $r = rand();
	return "'{}'::$elemtype\[]" if $r < 0.05;
	return "'{{1,2},{3,4}}'::$elemtype\[]" if $r < 0.1;
	return "'{1,NULL,2}'::$elemtype\[]" if $r < 0.15;
	return "'[0:2]={1,2,3}'::$elemtype\[]" if $r < 0.2;
	my $n = rand() < 0.9 ? 1 + $cur_dim : pick(@dims) + (rand() < 0.5 ? 1 : 0);
	$n = 1 if $n < 1;
	if ($n > 64)
	{
		my $e = $elemtype eq 'integer' ? pick(@ints) : pick(@float8_elems);
		$e = '1' if $elemtype =~ /integer|numeric/ && $e !~ /^-?\d+$/;
		return "array_fill('$e'::$elemtype, ARRAY[$n])";
	}
	my @e;
	for (1 .. $n)
	{
		my $x = $elemtype eq 'integer' ? pick(@ints)
		  : rand() < 0.4 ? pick(@float8_elems) : sprintf('%.4g', (rand() - 0.5) * 100);
		$x = '1' if $elemtype eq 'numeric' && $x =~ /Inf|NaN/ && rand() < 0.5;
		push @e, $x;
	}
	# aggregate states: the first element is a count
	$e[0] = pick('0', '1', '2', '-1', '0.5', 'NaN', 'Infinity', '1e-320', '3') if $elemtype eq 'double precision';
	return "'{" . join(',', @e) . "}'::$elemtype\[]";
}

sub arg_literal
{
	my ($type) = @_;
	return vec_literal($type) if $type eq 'vector' || $type eq 'halfvec';
	return pick(@ints) if $type eq 'integer';
	return pick('true', 'false') if $type eq 'boolean';
	return pick('0.5', '0', '-1', '1e300', 'NaN', 'Infinity', '1e-320') . "::$type"
	  if $type eq 'real' || $type eq 'double precision';
	# Relations of every kind, for functions that inspect one (index
	# checks): tables, btree indexes, catalogs, sequences, invalid OIDs.
	return pick(@relations) . '::regclass' if $type eq 'regclass';
	return pick("'on'", "''", "'x'", "'" . ('y' x 200) . "'", "'-1'", "'\\'") . '::text'
	  if $type eq 'text';
	if ($type =~ /^(.*)\[\]$/)
	{
		return array_literal($1);
	}
	return undef;
}

# Whether every argument type of a function has a generator.
sub can_generate
{
	my ($f) = @_;
	for my $t (@{ $f->{args} })
	{
		return 0 unless defined arg_literal($t);
	}
	return 1;
}

# ---- the calls ------------------------------------------------------------

# Relations for regclass arguments.
$node->safe_psql('postgres', q{
CREATE TABLE fuzz_rel (id int PRIMARY KEY, v vector(3), h halfvec(3));
INSERT INTO fuzz_rel SELECT i, ARRAY[i, 1, 2], ARRAY[i, 1, 2] FROM generate_series(1, 100) i;
CREATE INDEX fuzz_rel_v ON fuzz_rel (v);
CREATE SEQUENCE fuzz_seq;
CREATE VIEW fuzz_view AS SELECT * FROM fuzz_rel;
});
@relations = ("'fuzz_rel'", "'fuzz_rel_v'", "'fuzz_rel_pkey'", "'fuzz_seq'", "'fuzz_view'",
	"'pg_class'", "'pg_class_oid_index'", "'0'", "'4294967295'");

my @calls;
for my $f (@funcs)
{
	if (!can_generate($f))
	{
		note "skipped $f->{name}(" . join(', ', @{ $f->{args} }) . "): no generator for an argument type";
		next;
	}
	my $n = ($f->{kind} eq 'a' ? 40 : 30) * $scale;
	for (1 .. $n)
	{
		$cur_dim = rand() < 0.7 ? pick(1, 2, 3, 3, 4, 5, 8) : pick(@dims);
		my $q;
		if ($f->{kind} eq 'a')
		{
			my $type = $f->{args}[0];
			my @rows = map { '(' . arg_literal($type) . ')' } 1 .. 1 + int(rand(4));
			push @rows, '(NULL)' if rand() < 0.2;
			$q = "SELECT $f->{name}(x) FROM (VALUES " . join(', ', @rows) . ") t(x)";
		}
		else
		{
			$q = "SELECT $f->{name}(" . join(', ', map { arg_literal($_) } @{ $f->{args} }) . ")";
		}
		push @calls, { q => $q, vec => ($f->{ret} =~ /^(vector|halfvec)$/ ? 1 : 0), f => $f->{name} };
	}
}
my $ncalls = scalar @calls;
note "$ncalls calls";

my %outcome;
my %states;
my @bad;
my $batch = 200;
for (my $i = 0; $i < $ncalls; $i += $batch)
{
	my $last = $i + $batch - 1;
	$last = $ncalls - 1 if $last > $ncalls - 1;
	my $values = join(",\n", map {
		my $q = $calls[$_]{q};
		$q =~ s/'/''/g;
		"($_, '$q', " . ($calls[$_]{vec} ? 'true' : 'false') . ")"
	} $i .. $last);
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT k || '|' || try_call(q, v) FROM (VALUES $values) c(k, q, v) ORDER BY k");
	if ($rc != 0)
	{
		fail("batch from call $i ran (rc $rc): $err");
		last;
	}
	for my $line (split /\n/, $out)
	{
		my ($k, $state, $nonfinite, $msg) = split /\|/, $line, 4;
		$outcome{ $state eq 'ok' ? 'ok' : 'error' }++;
		$states{$state}++;
		if ($state =~ /^XX/ || $state =~ /^58/ || $nonfinite ne '0')
		{
			push @bad, "$calls[$k]{q}: $state $nonfinite " . ($msg // '');
		}
	}
}
is(scalar(@bad), 0, "$ncalls calls: no internal errors, no non-finite results");
diag($_) for @bad[ 0 .. ($#bad < 19 ? $#bad : 19) ];
note sprintf("returned %d, raised %d", $outcome{ok} // 0, $outcome{error} // 0);
note 'outcomes: ' . join(', ', map { "$_ $states{$_}" } sort keys %states);
ok(($outcome{ok} // 0) > $ncalls / 5 && ($outcome{error} // 0) > $ncalls / 10,
	'both outcomes were exercised');

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $start_time,
	'the server never crashed');
unlike(slurp_file($node->logfile), qr/terminated by signal|server process .* was terminated|TRAP:/,
	'no backend died');

my $elapsed = time - $t0;
note sprintf("%d calls in %.1f s", $ncalls, $elapsed);
cmp_ok($elapsed, '<', 120, 'bounded run time');

$node->stop;
done_testing();
