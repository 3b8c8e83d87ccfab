#!/usr/bin/env bash
# test.sh: install what is missing, build and install vecx, run every test
# (C unit tests, fuzz smoke, pg_regress, differential test, TAP) on throwaway
# clusters, print a summary and exit non-zero if anything failed.
#
#   scripts/test.sh                 everything (stages: build unit fuzz gpu regress vecname diff tap)
#   VECX_STAGES="regress tap" scripts/test.sh     only some stages
#   PROVE_TESTS=test/tap/010_hnsw_wal.pl scripts/test.sh   some TAP files
#   PG_CONFIG=/path/to/pg_config scripts/test.sh  another installation
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
. scripts/lib.sh

stages=${VECX_STAGES:-"build unit fuzz gpu regress vecname diff tap"}
passed=0
failed=0
failed_names=""

run_stage() {
	local name=$1
	shift
	log "stage: $name"
	if "$@"; then
		passed=$((passed + 1))
		log "stage $name: ok"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		log "stage $name: FAILED"
	fi
}

has_stage() { case " $stages " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Work area owned by the cluster account (initdb and pg_regress refuse
# root, and pg_regress writes its results next to the tests).
work=$(mktemp -d /tmp/vecx-test.XXXXXX)
chmod 755 "$work"
cleanup() {
	[ -n "${cluster_dir:-}" ] && vecx_stop_cluster "$cluster_dir"
	if [ "${VECX_KEEP:-0}" != 1 ]; then rm -rf "$work"; else log "kept $work"; fi
}
trap cleanup EXIT

stage_build() {
	vecx_need_pkgs $VECX_BASE_PKGS clang libclang-rt-14-dev || return 1
	vecx_build_install COPT="-Werror"
}

stage_unit() {
	[ -f test/unit/Makefile ] || { log "no unit tests"; return 0; }
	make -s -C test/unit PG_CONFIG="$PG_CONFIG" run
}

stage_fuzz() {
	[ -x test/fuzz/run.sh ] || { log "no fuzz harness"; return 0; }
	test/fuzz/run.sh smoke
}

# The CUDA code must compile wherever nvcc exists; its test checks the
# no-device contract here and the kernels themselves where a GPU is present.
stage_gpu() {
	command -v nvcc >/dev/null || { log "no nvcc: GPU code not compiled"; return 0; }
	make -s -C test/gpu clean run || return 1
	rm -rf "$work/cuda"
	cp -a "$top" "$work/cuda"
	make -s -C "$work/cuda" clean >/dev/null
	make -s -C "$work/cuda" PG_CONFIG="$PG_CONFIG" WITH_CUDA=1 COPT=-Werror >/dev/null || return 1
	nm "$work/cuda/vecx.so" >"$work/cuda/nm.txt"
	grep -q cudaLaunchKernel "$work/cuda/nm.txt" || { log "CUDA kernel not linked"; return 1; }
	log "extension links with WITH_CUDA=1"
}

copy_tree() {
	rm -rf "$work/tree"
	cp -a "$top" "$work/tree"
	rm -rf "$work/tree/results" "$work/tree/tmp_check"
	[ "$(id -u)" -eq 0 ] && chown -R "$(vecx_pg_user)" "$work"
	return 0
}

stage_regress() {
	local rc
	copy_tree
	cluster_dir=$work/cluster
	vecx_start_cluster "$cluster_dir" || return 1
	vecx_as_pg "cd '$work/tree' && make -s PG_CONFIG='$PG_CONFIG' installcheck TAP_TESTS= PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres"
	rc=$?
	if [ $rc -ne 0 ] && [ -f "$work/tree/regression.diffs" ]; then
		head -c 20000 "$work/tree/regression.diffs"
		cp "$work/tree/regression.diffs" "$top/regression.diffs" 2>/dev/null || true
	fi
	vecx_stop_cluster "$cluster_dir"
	cluster_dir=""
	return $rc
}

# vecx under the extension name vector (make install-vector-name) and the
# suite of test/vecname: CREATE EXTENSION vector, one of vecx and vector per
# database, the guard against pgvector's library, a pgvector 0.8 dump
# restored.  The name is removed again afterwards unless it was installed
# before: left behind, it would pass for pgvector (bench/writes.sh looks for
# vector.control).  On a server with pgvector itself there is nothing to
# test.
stage_vecname() {
	local rc sudo="" ctl had_name=0
	ctl="$("$PG_CONFIG" --sharedir)/extension/vector.control"
	if [ -f "$ctl" ]; then
		if ! grep -q "^module_pathname = '\$libdir/vecx'" "$ctl"; then
			log "pgvector is installed on this server ($ctl): the vector name cannot be tested here, skipped"
			return 0
		fi
		had_name=1
	fi
	[ "$(id -u)" -ne 0 ] && [ ! -w "$(dirname "$ctl")" ] && sudo=sudo
	# generated as the calling user, installed (maybe) as root
	make -s PG_CONFIG="$PG_CONFIG" vector.control "sql/vector--$(sed -n "s/^default_version = '\(.*\)'/\1/p" vecx.control).sql" || return 1
	$sudo make -s PG_CONFIG="$PG_CONFIG" install-vector-name >/dev/null || return 1
	copy_tree
	cluster_dir=$work/cluster
	vecx_start_cluster "$cluster_dir" || return 1
	vecx_as_pg "cd '$work/tree' && make -s PG_CONFIG='$PG_CONFIG' installcheck-vector-name PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres"
	rc=$?
	if [ $rc -ne 0 ] && [ -f "$work/tree/test/vecname/regression.diffs" ]; then
		head -c 20000 "$work/tree/test/vecname/regression.diffs"
		mkdir -p "$top/test/vecname" && cp "$work/tree/test/vecname/regression.diffs" "$top/test/vecname/regression.diffs" 2>/dev/null || true
	fi
	vecx_stop_cluster "$cluster_dir"
	cluster_dir=""
	[ $had_name = 1 ] || $sudo make -s PG_CONFIG="$PG_CONFIG" uninstall-vector-name >/dev/null || rc=1
	return $rc
}

# Index scans against sequential scans of the same queries: the fixed cases
# of test/diff (a long run is scripts/difftest.sh --minutes N).
stage_diff() {
	scripts/difftest.sh --quick
}

stage_tap() {
	local rc tests=${PROVE_TESTS:-$(ls test/tap/*.pl 2>/dev/null | tr '\n' ' ')}
	[ -n "$tests" ] || { log "no TAP tests"; return 0; }
	copy_tree
	vecx_as_pg "cd '$work/tree' && make -s PG_CONFIG='$PG_CONFIG' installcheck REGRESS= ISOLATION= PROVE_TESTS='$tests'"
	rc=$?
	if [ $rc -ne 0 ]; then
		# The logs of failed test files, so CI output says why.
		for f in "$work"/tree/tmp_check/log/regress_log_*; do
			[ -f "$f" ] || continue
			grep -q -E "^not ok|error running SQL|died" "$f" || continue
			echo "---- tail of $(basename "$f")"
			tail -n 40 "$f"
		done
	fi
	return $rc
}

for s in build unit fuzz gpu regress vecname diff tap; do
	has_stage "$s" || continue
	run_stage "$s" "stage_$s"
	# Nothing else means anything if the build failed.
	[ "$s" = build ] && [ $failed -ne 0 ] && break
done

echo
[ -n "$failed_names" ] && echo "failed stages:$failed_names"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
