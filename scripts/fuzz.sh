#!/usr/bin/env bash
# Runs every fuzz target in the module for a bounded time each.
#
#   scripts/fuzz.sh                 # every target, 30s each
#   FUZZTIME=2m scripts/fuzz.sh     # longer
#   scripts/fuzz.sh ./xmlrpc/xmlcodec/      # only some packages
#
# Targets are discovered with `go test -list '^Fuzz'`. A crasher makes the
# script fail; Go writes the input under <pkg>/testdata/fuzz/<FuzzName>/,
# where it stays as a seed once the bug is fixed.
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-30s}"
pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
	pkgs=(./...)
fi

failed=0
ran=0
for pkg in $(go list "${pkgs[@]}"); do
	targets=$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for target in $targets; do
		ran=$((ran + 1))
		echo "=== $pkg $target ($fuzztime)"
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"; then
			echo "--- FAIL: $pkg $target"
			failed=$((failed + 1))
		fi
	done
done
echo "fuzz: $ran targets, $failed failed"
[ "$failed" -eq 0 ]
