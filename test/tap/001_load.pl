# 001_load.pl: the extension installs into a fresh cluster, loads its
# library and exposes its settings; dropping it leaves nothing behind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('load', extension => 0);

$node->safe_psql('postgres', 'CREATE EXTENSION vecx');
# The library is loaded on first use of one of its functions, or by LOAD.
is($node->safe_psql('postgres', "LOAD 'vecx'; SHOW vecx.simd"), 'auto', 'vecx.simd defaults to auto');
is($node->safe_psql('postgres', "LOAD 'vecx'; SET vecx.simd = scalar; SHOW vecx.simd"), 'scalar',
	'vecx.simd can force the scalar kernels');
my ($rc, $out, $err) = $node->psql('postgres', "LOAD 'vecx'; SET vecx.simd = fastest");
isnt($rc, 0, 'vecx.simd rejects an unknown value');
like($err, qr/invalid value for parameter "vecx.simd"/, 'with the server\'s message');

# Every object belongs to the extension: dropping it must leave no trace.
$node->safe_psql('postgres', 'DROP EXTENSION vecx');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid WHERE e.extname = 'vecx'"),
	'0', 'no dependent objects after DROP EXTENSION');

$node->stop;
done_testing();
