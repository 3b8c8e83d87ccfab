#!/usr/bin/env bash
# run.sh: build and run the libFuzzer harnesses (clang, ASan + UBSan).
#   test/fuzz/run.sh smoke            bounded run of each harness (CI)
#   test/fuzz/run.sh long [seconds]   longer run (default 600 s per harness)
# The parser harness needs src/types/vecparse.c; without it it is skipped
# with a message.  New corpus entries go to a temporary directory, never
# into test/fuzz/corpus (the seeds), unless VECX_FUZZ_SAVE=1.
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-smoke}
case $mode in
smoke) secs=20; runs=-runs=3000000 ;;
long) secs=${2:-600}; runs= ;;
*) echo "usage: $0 smoke | long [seconds]" >&2; exit 2 ;;
esac
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || CLANG=clang-14
work=$(mktemp -d /tmp/vecx-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
# crashing inputs are kept here (not in the tree) for reproduction:
#   $work/<harness> /tmp/vecx-fuzz-artifacts/crash-...
artifacts=${VECX_FUZZ_ARTIFACTS:-/tmp/vecx-fuzz-artifacts}
mkdir -p "$artifacts"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc -Isrc/types"
simd_srcs=$(ls src/simd/*.c)
status=0

run_one() {
	local name=$1 seeds=$2 log=$work/$1.log corpus=$work/$1.corpus
	mkdir -p "$corpus"
	[ "${VECX_FUZZ_SAVE:-0}" = 1 ] && corpus=$seeds
	"$work/$name" -max_total_time="$secs" $runs -max_len=4096 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
		"$corpus" "$seeds" >"$log" 2>&1
	local rc=$?
	local execs
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		tail -40 "$log"
		echo "fuzz $name: FAILED (rc $rc) after ${execs:-?} executions; inputs in $artifacts"
		status=1
	else
		echo "fuzz $name: ok, ${execs:-?} executions in ${secs}s max"
	fi
}

# conversion consistency between kernel tables
if $CLANG $flags -o "$work/fuzz_half" test/fuzz/fuzz_half.c $simd_srcs -lm; then
	run_one fuzz_half test/fuzz/corpus/half
else
	echo "fuzz fuzz_half: build FAILED"; status=1
fi

# text parser
if [ -f src/types/vecparse.c ]; then
	if $CLANG $flags -o "$work/fuzz_parse" test/fuzz/fuzz_parse.c src/types/vecparse.c -lm; then
		run_one fuzz_parse test/fuzz/corpus/parse
	else
		echo "fuzz fuzz_parse: build FAILED"; status=1
	fi
else
	echo "fuzz fuzz_parse: SKIPPED (src/types/vecparse.c not present yet)"
fi
exit $status
