# 340_dump_restore.pl: pg_dump and pg_restore of a database using vecx
# installed in a non-public schema: the extension is recreated (not its
# members one by one), column typmods survive, data comes back bit-exact
# through the text COPY that pg_dump uses, and dependent objects (btree
# indexes with vecx's operator classes, views, expression defaults)
# restore against the recreated extension.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('dump', extension => 0);
my $dir = PostgreSQL::Test::Utils::tempdir;

$node->safe_psql('postgres', q{
CREATE SCHEMA ext;
CREATE EXTENSION vecx SCHEMA ext;
CREATE TABLE items (id int PRIMARY KEY, v ext.vector(4), h ext.halfvec(4),
	big ext.vector, d ext.vector DEFAULT '[1,2]'::ext.vector);
INSERT INTO items (id, v, h, big)
SELECT i, ARRAY[i, -i, i / 7.0, 1e-40 * i]::ext.vector(4),
	ARRAY[i % 500, -0.5, i / 1024.0, 6e-8]::ext.halfvec(4),
	CASE WHEN i % 10 = 0 THEN array_fill(i / 3.0, ARRAY[5000])::ext.vector END
FROM generate_series(1, 300) i;
INSERT INTO items VALUES (1000, '[3.4028235e38,-3.4028235e38,1e-45,-0]', '[65504,-65504,-0,6e-8]', NULL, NULL);
CREATE INDEX items_v ON items (v);
CREATE INDEX items_h ON items USING btree (h ext.halfvec_ops);
CREATE VIEW near AS SELECT id, v OPERATOR(ext.<->) '[1,1,1,1]'::ext.vector AS dist FROM items;
});

my $digest = q{
SELECT count(*), md5(string_agg(concat_ws('|', id, ext.vector_send(v), ext.halfvec_send(h),
	ext.vector_send(big), ext.vector_send(d)), ';' ORDER BY id)) FROM items};
my $types = q{
SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0};
my $before = $node->safe_psql('postgres', $digest);
my $types_before = $node->safe_psql('postgres', $types);
like($before, qr/^301\|/, '301 rows to dump');

for my $format ('custom', 'plain')
{
	my $db = "restored_$format";
	my $file = "$dir/dump.$format";
	$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-F', substr($format, 0, 1), '-f', $file ],
		"pg_dump -F $format");
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	if ($format eq 'custom')
	{
		$node->command_ok([ 'pg_restore', '-d', $node->connstr($db), '--exit-on-error', $file ],
			'pg_restore');
	}
	else
	{
		my $script = slurp_file($file);
		like($script, qr/CREATE EXTENSION IF NOT EXISTS vecx WITH SCHEMA ext;/,
			'the dump recreates the extension, not its members');
		unlike($script, qr/CREATE FUNCTION ext\.|CREATE TYPE ext\.|CREATE OPERATOR ext\./,
			'and holds none of its objects');
		$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db), '-f', $file ],
			'plain dump restores');
	}
	is($node->safe_psql($db, $digest), $before, "$format: every value restored bit-exact");
	is($node->safe_psql($db, $types), $types_before, "$format: column types and typmods restored");
	is($node->safe_psql($db, q{SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'vecx'}),
		'ext', "$format: extension recreated in its schema");
	is($node->safe_psql($db, q{SET enable_seqscan = off; SELECT id FROM items WHERE v OPERATOR(ext.=) '[7,-7,1,7e-40]' AND h OPERATOR(ext.=) '[7,-0.5,0.0068359375,6e-8]'}),
		'7', "$format: restored btree indexes work");
	like($node->safe_psql($db, q{SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM items WHERE v OPERATOR(ext.=) '[7,-7,1,7e-40]'}),
		qr/items_v/, "$format: and are used");
	is($node->safe_psql($db, q{SELECT round(dist::numeric, 4) FROM near WHERE id = 1}),
		'2.3947', "$format: restored view works");
	# The typmod is still enforced after restore.
	my ($rc, $out, $err) = $node->psql($db, q{INSERT INTO items (id, v) VALUES (5000, '[1,2,3]')});
	like($err, qr/expected 4 dimensions, not 3/, "$format: typmod enforced after restore");
}

$node->stop;
done_testing();
