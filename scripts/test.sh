#!/usr/bin/env bash
# test.sh: install what is missing, build and install vecx, run every test
# (C unit tests, fuzz smoke, pg_regress, differential test, TAP) on throwaway
# clusters, print a summary and exit non-zero if anything failed.
#
#   scripts/test.sh                 everything (stages: build unit fuzz gpu regress vecname diff deb tap)
#   VECX_STAGES=deb scripts/test.sh the Debian package alone (a full package build,
#                                   installed into a throwaway server: 1-3 minutes on 2 cores)
#   VECX_STAGES="regress tap" scripts/test.sh     only some stages
#   PROVE_TESTS=test/tap/010_hnsw_wal.pl scripts/test.sh   some TAP files
#   PG_CONFIG=/path/to/pg_config scripts/test.sh  another installation
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
. scripts/lib.sh

stages=${VECX_STAGES:-"build unit fuzz gpu regress vecname diff deb tap"}
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
# Then the split: vecx.so has no CUDA in it (no symbol, no library needed),
# vecx_gpu.so has the launches and exports only what vecx.so looks up.
stage_gpu() {
	local nm_out
	command -v nvcc >/dev/null || { log "no nvcc: GPU code not compiled"; return 0; }
	make -s -C test/gpu clean run || return 1
	rm -rf "$work/cuda"
	cp -a "$top" "$work/cuda"
	make -s -C "$work/cuda" clean >/dev/null
	make -s -C "$work/cuda" PG_CONFIG="$PG_CONFIG" WITH_CUDA=1 COPT=-Werror >/dev/null || return 1
	if nm -D "$work/cuda/vecx.so" | grep -i -E 'cuda|cublas' ||
		readelf -d "$work/cuda/vecx.so" | grep -i -E 'NEEDED.*(cuda|cudart|nvidia)'; then
		log "vecx.so refers to CUDA (above): it must only dlopen vecx_gpu.so"
		return 1
	fi
	nm_out=$(nm "$work/cuda/vecx_gpu.so") || return 1
	grep -q cudaLaunchKernel <<<"$nm_out" || { log "vecx_gpu.so: no kernel launches linked"; return 1; }
	# every kernel compiled with its launch stub (src/gpu/gpu_cuda.cu)
	for k in vecx_assign_kernel vecx_update_sum_kernel vecx_update_mean_kernel \
		vecx_pq_encode_kernel vecx_l2sq_rows_kernel; do
		grep -q "__device_stub__.*$k" <<<"$nm_out" || { log "vecx_gpu.so: no launch of $k"; return 1; }
	done
	nm -D --defined-only "$work/cuda/vecx_gpu.so" | grep -q ' T vecx_gpu_api$' ||
		{ log "vecx_gpu.so does not export vecx_gpu_api"; return 1; }
	if readelf -d "$work/cuda/vecx_gpu.so" | grep -E 'NEEDED.*(libcuda|libcudart)'; then
		log "vecx_gpu.so links the CUDA driver or a shared runtime (above): it must dlopen the driver"
		return 1
	fi
	log "vecx.so without CUDA, vecx_gpu.so with its kernels"
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
			grep -q -E "(^|\) )not ok|error running SQL|died" "$f" || continue
			echo "---- tail of $(basename "$f")"
			tail -n 40 "$f"
		done
	fi
	return $rc
}

# The Debian package (debian/, postgresql-common's pg_buildext): built from
# a copy of the tree with dpkg-buildpackage, its contents checked, then
# installed into a throwaway server and smoke-tested: CREATE EXTENSION
# vecx, an hnsw and an ivfpq query, vecx_index_recall.  The package is
# unpacked over a copy of $PG_CONFIG's server tree rather than installed
# with dpkg, which would replace the vecx of the system's PostgreSQL;
# VECX_DEB_DPKG=1 installs it with apt for real (a CI container) and tests
# the system's server.  VECX_DEB_OUT=DIR keeps the packages built.
stage_deb() {
	local rc=0 deb root bindir pgv
	vecx_need_pkgs dpkg-dev debhelper postgresql-server-dev-all libopenblas-dev || return 1
	pgv=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	/usr/share/postgresql-common/supported-versions | grep -qx "$pgv" || {
		log "PostgreSQL $pgv is not among this system's supported versions: cannot package for it"
		return 1
	}
	rm -rf "$work/deb" && mkdir -p "$work/deb"
	cp -a "$top"/. "$work/deb/vecx" || return 1
	rm -rf "$work/deb/vecx/.git" "$work/deb/vecx/results" "$work/deb/vecx/tmp_check"
	(cd "$work/deb/vecx" && make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
	 dpkg-buildpackage -us -uc -b >"$work/deb/build.log" 2>&1) || {
		tail -n 40 "$work/deb/build.log"
		return 1
	}
	deb=$(ls "$work"/deb/postgresql-"$pgv"-vecx_*.deb 2>/dev/null | grep -v dbgsym | head -n 1)
	[ -n "$deb" ] || { log "no postgresql-$pgv-vecx package built"; return 1; }
	log "built $(basename "$deb")"
	dpkg-deb -I "$deb" | sed -n 's/^ \(Package\|Version\|Depends\):/  \1:/p' >&2
	# the library, the control file and the scripts of every version
	dpkg-deb -c "$deb" >"$work/deb/contents.txt" || return 1
	for f in "usr/lib/postgresql/$pgv/lib/vecx.so" "usr/share/postgresql/$pgv/extension/vecx.control" \
		"usr/share/postgresql/$pgv/extension/vecx--0.1.0.sql" \
		"usr/share/postgresql/$pgv/extension/vecx--0.2.0.sql" \
		"usr/share/postgresql/$pgv/extension/vecx--0.1.0--0.2.0.sql"; do
		grep -q " \./$f\$" "$work/deb/contents.txt" || { log "package lacks $f"; rc=1; }
	done
	[ $rc -eq 0 ] || return 1

	if [ "${VECX_DEB_DPKG:-0}" = 1 ]; then
		apt-get install -y -qq --no-install-recommends "$deb" >/dev/null || return 1
		bindir=/usr/lib/postgresql/$pgv/bin
	else
		# a server tree of our own: the package's files over a copy of the server
		root=$work/deb/root
		bindir=$("$PG_CONFIG" --bindir)
		mkdir -p "$root/usr/lib/postgresql/$pgv" "$root/usr/share/postgresql"
		cp -a "$bindir/.." "$root/usr/lib/postgresql/$pgv/." || return 1
		cp -a "$("$PG_CONFIG" --sharedir)" "$root/usr/share/postgresql/$pgv" || return 1
		rm -f "$root/usr/lib/postgresql/$pgv/lib/vecx.so" "$root/usr/share/postgresql/$pgv/extension/"vecx*
		dpkg-deb -x "$deb" "$root" || return 1
		bindir=$root/usr/lib/postgresql/$pgv/bin
	fi
	cluster_dir=$work/deb/cluster
	PG_CONFIG="$bindir/pg_config" vecx_start_cluster "$cluster_dir" || return 1
	"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d postgres >"$work/deb/smoke.out" 2>&1 <<'SQL' || rc=1
CREATE EXTENSION vecx;
SELECT extversion FROM pg_extension WHERE extname = 'vecx';
SELECT probin FROM pg_proc WHERE proname = 'vecx_index_recall';
CREATE TABLE t (id int, v vector(3));
INSERT INTO t SELECT i, ARRAY[i % 11, i % 7, i % 5] FROM generate_series(1, 1000) i;
CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops);
CREATE INDEX t_ivfpq ON t USING ivfpq (v vector_l2_ops) WITH (lists = 4);
SET enable_seqscan = off;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM t ORDER BY v <-> '[1,1,1]' LIMIT 3) s;
SET hnsw.ef_search = 200;
SELECT n_queries, recall FROM vecx_index_recall('t_hnsw', sample => 20);
SET ivfpq.probes = 4;
SELECT n_queries, recall FROM vecx_index_recall('t_ivfpq', sample => 20);
SELECT vecx_index_check('t_hnsw', true), vecx_index_check('t_ivfpq', true);
SQL
	cat "$work/deb/smoke.out"
	grep -q '^ 0.2.0$' "$work/deb/smoke.out" || { log "smoke test: wrong or no version"; rc=1; }
	[ "$(grep -c '^ *20 | *1$' "$work/deb/smoke.out")" = 2 ] || { log "smoke test: recall is not 1"; rc=1; }
	vecx_stop_cluster "$cluster_dir"
	cluster_dir=""
	if [ -n "${VECX_DEB_OUT:-}" ]; then
		mkdir -p "$VECX_DEB_OUT" && cp "$work"/deb/*.deb "$VECX_DEB_OUT/" && log "packages copied to $VECX_DEB_OUT"
	fi
	return $rc
}

for s in build unit fuzz gpu regress vecname diff tap deb; do
	has_stage "$s" || continue
	run_stage "$s" "stage_$s"
	# Nothing else means anything if the build failed.
	[ "$s" = build ] && [ $failed -ne 0 ] && break
done

echo
[ -n "$failed_names" ] && echo "failed stages:$failed_names"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
