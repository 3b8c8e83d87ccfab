#!/usr/bin/env bash
# sanitize.sh: build vecx with AddressSanitizer + UndefinedBehaviorSanitizer,
# install it into a private PostgreSQL sandbox whose server runs with the
# ASan runtime preloaded, run the C unit tests, the whole pg_regress suite
# and every TAP test against it, then fail on any sanitizer report.
#
#   scripts/sanitize.sh                    everything (selftest unit regress tap)
#   VECX_SAN_STAGES="regress" scripts/sanitize.sh        some stages only
#   PROVE_TESTS="test/tap/300_recv_fuzz.pl" scripts/sanitize.sh
#   VECX_SAN_CC=clang scripts/sanitize.sh  clang instead of gcc
#   VECX_SAN_DIR=/path                     sandbox and work area
#                                          (default /tmp/vecx-san)
#
# This is a long check (several minutes), not part of scripts/test.sh.
#
# The PostgreSQL binaries are not instrumented, so the ASan runtime must be
# the first library in every server process: the sandbox's bin/postgres is
# replaced by a wrapper that sets LD_PRELOAD and the sanitizer options and
# execs the real binary.  Every server started from the sandbox (pg_regress
# cluster, TAP clusters, initdb's bootstrap backend) runs instrumented while
# psql, perl and make do not.  Reports are written to files under
# $VECX_SAN_DIR/reports (log_path) except gcc's UBSan ones, which go to
# the server logs; both are searched.  A self-test first checks that a deliberate heap overflow
# and a deliberate signed overflow in a throwaway module are reported.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
. scripts/lib.sh

san_dir=${VECX_SAN_DIR:-/tmp/vecx-san}
cc=${VECX_SAN_CC:-gcc}
stages=${VECX_SAN_STAGES:-"selftest unit regress tap"}
sanflags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

vecx_need_pkgs $VECX_BASE_PKGS || exit 1
[ "$cc" = clang ] && { vecx_need_pkgs clang libclang-rt-14-dev || exit 1; }

# The ASan runtime that the instrumented library was linked against.
# clang links sanitizer runtimes into executables only; -shared-libsan
# makes a shared object depend on the shared runtime instead.
shlib_flags=""
case $cc in
gcc) asan_rt=$(gcc -print-file-name=libasan.so) ;;
clang)
	asan_rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
	shlib_flags="-shared-libsan -Wno-unused-command-line-argument"
	;;
*) log "VECX_SAN_CC must be gcc or clang"; exit 2 ;;
esac
asan_rt=$(readlink -f "$asan_rt")
[ -f "$asan_rt" ] || { log "no ASan runtime for $cc ($asan_rt)"; exit 1; }

# Fresh sandbox each run: a clean copy of the system's PostgreSQL 15.
case $san_dir in
/* ) [ "$san_dir" != / ] || { log "VECX_SAN_DIR must not be /"; exit 2; } ;;
*) log "VECX_SAN_DIR must be an absolute path"; exit 2 ;;
esac
rm -rf "$san_dir"
mkdir -p "$san_dir"
PG_CONFIG=$(scripts/pg-sandbox.sh "$san_dir/pg") || exit 1
export PG_CONFIG
bindir=$("$PG_CONFIG" --bindir)
reports=$san_dir/reports
mkdir -p "$reports"
chmod 1777 "$reports"
chmod 755 "$san_dir"

# detect_leaks=0: backends free memory by dropping memory contexts at exit,
# which LeakSanitizer would report wholesale.  detect_stack_use_after_return=0:
# the fake stacks confuse PostgreSQL's stack depth check.
# abort_on_error=1: a report kills the backend, so the test also fails.
asan_options="detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0:detect_odr_violation=0:print_summary=1:log_path=$reports/report"
ubsan_options="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$reports/report"

# The runtime initialises itself lazily, on the first malloc.  In the server
# that first malloc comes from libgpg-error's constructor, inside
# bindtextdomain() with glibc's gettext lock held; ASan's start-up then calls
# dlerror() after failing to find swift_demangle, dlerror() translates its
# message through gettext, takes the same lock and the process hangs.  A
# stub swift_demangle (it returns NULL: "cannot demangle") makes that dlsym
# succeed, so start-up never reaches gettext.
stub=$san_dir/swift_demangle_stub.so
cat >"$san_dir/swift_demangle_stub.c" <<'STUB'
#include <stddef.h>
char	   *swift_demangle(const char *m, size_t n, char *o, size_t *l, unsigned f);
char *
swift_demangle(const char *m, size_t n, char *o, size_t *l, unsigned f)
{
	return NULL;
}
STUB
gcc -shared -fPIC -O2 -o "$stub" "$san_dir/swift_demangle_stub.c" || exit 1

mv "$bindir/postgres" "$bindir/postgres.real"
cat >"$bindir/postgres" <<WRAP
#!/bin/bash
# Run the server with the sanitizer runtime preloaded (scripts/sanitize.sh).
# argv[0] stays this wrapper's path: the postmaster records it in
# postmaster.opts, and pg_ctl restart must come back through here.
LD_PRELOAD="$asan_rt $stub\${LD_PRELOAD:+ \$LD_PRELOAD}"
ASAN_OPTIONS="$asan_options"
UBSAN_OPTIONS="$ubsan_options"
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
exec -a "\$0" "\$(dirname "\$0")/postgres.real" "\$@"
WRAP
chmod 755 "$bindir/postgres"

# Build in a copy so the developer's tree keeps its ordinary objects.
tree=$san_dir/tree
rm -rf "$tree"
cp -a "$top" "$tree"
rm -rf "$tree/results" "$tree/tmp_check" "$tree/regression.diffs"
cd "$tree" || exit 1
make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
log "building vecx with $cc $sanflags"
# COPT goes into both CFLAGS and LDFLAGS in PGXS; no LLVM bitcode (JIT
# inlining of instrumented code is not what we want to test).
if ! make -s -j2 PG_CONFIG="$PG_CONFIG" CC="$cc" with_llvm=no \
	COPT="-O1 -g $sanflags $shlib_flags" >"$san_dir/build.log" 2>&1 ||
	! make -s install PG_CONFIG="$PG_CONFIG" with_llvm=no >>"$san_dir/build.log" 2>&1; then
	tail -40 "$san_dir/build.log"
	log "sanitizer build failed"
	exit 1
fi
ldd "$("$PG_CONFIG" --pkglibdir)/vecx.so" | grep -q -E 'asan' ||
	{ log "vecx.so is not linked against the ASan runtime"; exit 1; }
[ "$(id -u)" -eq 0 ] && chown -R "$(vecx_pg_user)" "$san_dir"

status=0

has_stage() { case " $stages " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Self-test: the set-up must be able to fail.  A throwaway module with a
# heap overflow and a signed overflow, built with the same flags, is loaded
# into a server from the sandbox; each must kill its backend and leave a
# report.  Reports from here are then cleared.
selftest() {
	local d=$san_dir/selftest ok=0 psql
	mkdir -p "$d"
	cat >"$d/canary.c" <<'CANARY'
/* canary.c: deliberate memory and UB errors for sanitize.sh's self-test */
#include "postgres.h"
#include "fmgr.h"

#include <stdlib.h>

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(asan_canary);
Datum
asan_canary(PG_FUNCTION_ARGS)
{
	char	   *p = malloc(8);
	volatile char c = p[PG_GETARG_INT32(0)];

	free(p);
	PG_RETURN_INT32(c);
}

PG_FUNCTION_INFO_V1(ubsan_canary);
Datum
ubsan_canary(PG_FUNCTION_ARGS)
{
	volatile int32 a = PG_GETARG_INT32(0);

	PG_RETURN_INT32(a + 1);
}
CANARY
	"$cc" -O0 -g -fPIC -shared $sanflags $shlib_flags -I"$("$PG_CONFIG" --includedir-server)" \
		-o "$d/canary.so" "$d/canary.c" || return 1
	[ "$(id -u)" -eq 0 ] && chown -R "$(vecx_pg_user)" "$d"
	vecx_start_cluster "$d/cluster" || return 1
	psql="'$bindir/psql' -X -q -h '$PGHOST' -p '$PGPORT' -U postgres -d postgres"
	vecx_as_pg "$psql -c \"CREATE FUNCTION asan_canary(int) RETURNS int AS '$d/canary.so' LANGUAGE C STRICT; CREATE FUNCTION ubsan_canary(int) RETURNS int AS '$d/canary.so' LANGUAGE C STRICT;\"" || return 1
	vecx_as_pg "$psql -c 'SELECT asan_canary(16)'" >/dev/null 2>&1
	sleep 2
	if grep -q -s "ERROR: AddressSanitizer: heap-buffer-overflow" "$reports"/* "$d/cluster/server.log"; then
		log "self-test: ASan report for a heap overflow: ok"
	else
		log "self-test: NO ASan report for a deliberate heap overflow"
		ok=1
	fi
	vecx_as_pg "$psql -c 'SELECT ubsan_canary(2147483647)'" >/dev/null 2>&1
	sleep 2
	# (gcc's UBSan runtime writes to stderr, i.e. the server log.)
	if grep -q -s "runtime error: signed integer overflow" "$reports"/* "$d/cluster/server.log"; then
		log "self-test: UBSan report for a signed overflow: ok"
	else
		log "self-test: NO UBSan report for a deliberate signed overflow"
		ok=1
	fi
	# And a healthy server afterwards: vecx itself loads instrumented.
	vecx_as_pg "$psql -c 'CREATE EXTENSION vecx' -c \"SELECT '[1,2]'::vector <-> '[4,6]'\"" >/dev/null || ok=1
	vecx_as_pg "$psql -At -c \"SELECT count(*) FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\\\\n') l WHERE l ~ 'libasan|clang_rt.asan'\"" >"$d/maps.txt" 2>&1
	if [ "$(cat "$d/maps.txt")" -gt 0 ] 2>/dev/null; then
		log "self-test: backends run with the ASan runtime mapped"
	else
		log "self-test: ASan runtime not mapped in the backend ($(cat "$d/maps.txt"))"
		ok=1
	fi
	vecx_stop_cluster "$d/cluster"
	rm -f "$reports"/*
	return $ok
}

if has_stage selftest; then
	if ! selftest; then
		log "sanitizer self-test FAILED: results below would mean nothing"
		exit 1
	fi
fi

if has_stage unit && [ -f test/unit/Makefile ]; then
	log "unit tests with $sanflags"
	if ! ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
		make -s -C test/unit CC="$cc" CFLAGS="-O1 -g -Wall $sanflags" clean run; then
		status=1
		log "unit tests FAILED under sanitizers"
	fi
fi

# pg_regress and TAP through the ordinary runner; it installs nothing
# (no build stage), so the instrumented library stays in place.  Its work
# area goes under $san_dir (in this copy of the runner only), away from
# anything that cleans up /tmp/vecx-test.*.
sed -i "s|mktemp -d /tmp/vecx-test.XXXXXX|mktemp -d '$san_dir/work.XXXXXX'|" scripts/test.sh
grep -q "$san_dir/work" scripts/test.sh || log "note: could not move the runner's work area"
test_stages=""
has_stage regress && test_stages="$test_stages regress"
has_stage tap && test_stages="$test_stages tap"
if [ -n "$test_stages" ]; then
	VECX_KEEP=1 VECX_STAGES="$test_stages" scripts/test.sh 2>&1 | tee "$san_dir/test.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

# Reports: sanitizer log files, then anything that went to a server log.
found=0
for f in "$reports"/*; do
	[ -f "$f" ] || continue
	found=1
	echo "---- sanitizer report $f"
	head -n 60 "$f"
done
work=$(sed -n 's/^==> kept \(.*\)$/\1/p' "$san_dir/test.log" 2>/dev/null | tail -1)
if [ -n "$work" ] && [ -d "$work" ]; then
	# Keep the logs with the sandbox: /tmp/vecx-test.* may be cleaned up.
	mkdir -p "$san_dir/logs"
	cp -a "$work/tree/tmp_check/log" "$san_dir/logs/tap" 2>/dev/null
	cp -a "$work/cluster/server.log" "$san_dir/logs/regress-server.log" 2>/dev/null
	cp -a "$work/tree/regression.diffs" "$work/tree/results" "$san_dir/logs/" 2>/dev/null
	while IFS= read -r f; do
		found=1
		echo "---- sanitizer output in $f"
		grep -n -E -A 30 "ERROR: AddressSanitizer|runtime error:|ASan runtime does not come first" "$f" | head -n 60
	done < <(grep -r -l -E "ERROR: AddressSanitizer|runtime error:|ASan runtime does not come first" "$work" \
		--include='*.log' 2>/dev/null)
fi
[ $found -eq 0 ] || status=1
[ -n "$work" ] && [ $status -eq 0 ] && [ "${VECX_KEEP:-0}" != 1 ] && rm -rf "$work"

echo
if [ $found -eq 0 ]; then
	echo "sanitizers: no reports"
else
	echo "sanitizers: REPORTS FOUND (see above; files in $reports)"
fi
if [ $status -ne 0 ]; then
	echo "logs: $san_dir/logs"
fi
[ $status -eq 0 ] && echo "sanitize: ok" || echo "sanitize: FAILED"
exit $status
