#!/usr/bin/env bash
# soak.sh: the long variant of the reliability soak (test/tap/352_soak.pl):
# hnsw and ivfpq indexes on vector and halfvec columns under a pgbench mix
# of inserts, updates, deletes, searches, VACUUM and REINDEX INDEX
# CONCURRENTLY, then checked against exact scans (and vecx_index_check when
# the extension has it).  Builds and installs first, like scripts/test.sh.
#
#   scripts/soak.sh                  600 s soak
#   VECX_SOAK_SECONDS=3600 scripts/soak.sh
#   SOAK_TESTS="test/tap/352_soak.pl test/tap/351_crash_kill9.pl" scripts/soak.sh
#                                    also other reliability files
#   VECX_CRASH_MODES=postmaster,backend,postmaster,backend,postmaster,backend \
#     SOAK_TESTS=test/tap/351_crash_kill9.pl scripts/soak.sh
#                                    more kill -9 iterations
#   PG_CONFIG=/path/to/pg_config scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export VECX_SOAK_SECONDS=${VECX_SOAK_SECONDS:-600}
case $VECX_SOAK_SECONDS in
'' | *[!0-9]* | 0*) echo "VECX_SOAK_SECONDS must be a positive integer" >&2; exit 2 ;;
esac
export PROVE_TESTS=${SOAK_TESTS:-test/tap/352_soak.pl}
export VECX_STAGES=${VECX_STAGES:-"build tap"}
echo "==> soak: $VECX_SOAK_SECONDS s, $PROVE_TESTS" >&2
exec scripts/test.sh
