#!/usr/bin/env bash
# difftest.sh: the differential test (test/diff): random tables, indexes,
# settings and queries; every index scan is compared with a sequential scan
# of the same query.  Needs vecx installed into $PG_CONFIG's server.
#
#   scripts/difftest.sh --quick          fixed cases, 2-3 minutes (scripts/test.sh stage "diff")
#   scripts/difftest.sh --minutes 30     random cases for 30 minutes (before a release)
#   scripts/difftest.sh --seed S         replay one case (printed by a failure), verbosely
#   scripts/difftest.sh --seed S --keep  ... and leave its table diff_t (with VECX_DIFF_CLUSTER=env)
#   other options: --cases N --base B, --verbose (see test/diff/run.py --help)
#
# Environment:
#   PG_CONFIG           server to test (default: pg_config)
#   VECX_DIFF_CLUSTER   "env": use the cluster of PGHOST/PGPORT/PGUSER and
#                       database PGDATABASE as they are (CREATE EXTENSION
#                       vecx if missing) instead of a throwaway one
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# Debian's python3 with its psycopg2 (PyPI may be out of reach; a python3
# earlier on PATH may lack psycopg2, so the path is explicit).
python=/usr/bin/python3
vecx_need_pkgs python3 python3-psycopg2 || exit 1

dir=""
cleanup() {
	[ -n "$dir" ] || return 0
	vecx_stop_cluster "$dir"
	rm -rf "$dir"
}
trap cleanup EXIT

if [ "${VECX_DIFF_CLUSTER:-}" = env ]; then
	db=${PGDATABASE:-postgres}
else
	dir=$(mktemp -d /tmp/vecx-diff.XXXXXX)
	chmod 755 "$dir"
	vecx_start_cluster "$dir" || { cat "$dir/server.log" 2>/dev/null; exit 1; }
	db=vecx_diff
	"$("$PG_CONFIG" --bindir)/createdb" "$db" || exit 1
fi
export PGDATABASE=$db
"$("$PG_CONFIG" --bindir)/psql" -X -q -v ON_ERROR_STOP=1 \
	-c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS vecx" || exit 1

"$python" test/diff/run.py "$@"
rc=$?
# A crash or an assertion failure shows in the server log, not in the client.
if [ $rc -ne 0 ] && [ -n "$dir" ] && grep -q -E "PANIC|TRAP|terminated by signal" "$dir/server.log"; then
	echo "---- server log (crash lines and their context)"
	grep -E -B2 -A8 "PANIC|TRAP|terminated by signal" "$dir/server.log" | head -n 80
fi
exit $rc
