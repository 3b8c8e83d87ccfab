#!/usr/bin/env bash
# kernels.sh: build bench/kernels.c with -O2 (no -march: the vector
# kernels use target attributes and runtime dispatch, as in the extension)
# and print ns per 784-dimension distance for each kernel and table
# (sq8 rows also as a fraction of the same table's l2sq_f32).
#   bench/kernels.sh [dim [ms per measurement]]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/vecx-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
${CC:-gcc} -O2 -Isrc -o "$out/kernels" bench/kernels.c src/simd/*.c -lm
"$out/kernels" "$@"
