#!/usr/bin/env bash
# Runs the repository's Go benchmarks several times and compares runs with
# benchstat (installed into $(go env GOPATH)/bin when missing).
#
#   scripts/bench.sh                      # run all benchmarks, -count 6, summarise with benchstat
#   scripts/bench.sh -base main           # also run them on git ref main (in a temporary worktree) and compare
#   scripts/bench.sh -old old.txt         # compare with an earlier run's output
#   scripts/bench.sh -bench 'Decode|Encode' -count 10 -pkg ./xmlrpc/xmlcodec -o new.txt
#
# Results are written to $TMPDIR/rpcwire-bench/ (or -o FILE); the old/new files are plain
# `go test -bench` output, so they can be kept and compared later. Absolute
# numbers drift between machines and sessions: compare runs made on the
# same machine, ideally interleaved (-base does old and new back to back).
set -euo pipefail

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Flags:
  -bench REGEX   benchmarks to run (default .)
  -count N       runs of each benchmark (default 6; benchstat wants >= 6 for confidence intervals)
  -benchtime T   go test -benchtime (default 1s)
  -pkg PATTERN   packages (default ./...)
  -base REF      run the same benchmarks on git REF and compare with it
  -old FILE      compare with this earlier output instead
  -o FILE        where to write this run's output (default $TMPDIR/rpcwire-bench/new-<time>.txt)
EOF
}

bench=. count=6 benchtime=1s pkg=./... base= old= out=
while [ $# -gt 0 ]; do
  case "$1" in
    -bench) bench=$2; shift 2 ;;
    -count) count=$2; shift 2 ;;
    -benchtime) benchtime=$2; shift 2 ;;
    -pkg) pkg=$2; shift 2 ;;
    -base) base=$2; shift 2 ;;
    -old) old=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -h|-help|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$count" in ''|*[!0-9]*) echo "bench.sh: -count wants a number, got $count" >&2; exit 2 ;; esac
if [ -n "$base" ] && [ -n "$old" ]; then echo "bench.sh: use -base or -old, not both" >&2; exit 2; fi
if [ -n "$old" ] && [ ! -f "$old" ]; then echo "bench.sh: no such file: $old" >&2; exit 2; fi

# Paths given on the command line are relative to where the script was run.
abs() { case "$1" in /*|'') printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
out=$(abs "$out") old=$(abs "$old")
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"

# benchstat is a tool, not a dependency of the module: install it into
# GOPATH/bin, outside go.mod.
gobin=$(go env GOBIN); [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"
if ! command -v benchstat >/dev/null 2>&1; then
  echo "bench.sh: installing benchstat (golang.org/x/perf/cmd/benchstat) into $gobin" >&2
  (cd / && go install golang.org/x/perf/cmd/benchstat@latest)
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
dir="${TMPDIR:-/tmp}/rpcwire-bench"
mkdir -p "$dir"
[ -n "$out" ] || out="$dir/new-$stamp.txt"

# run DIR FILE: the benchmarks in the module checked out at DIR.
run() {
  echo "bench.sh: go test -run '^\$' -bench '$bench' -benchmem -count $count -benchtime $benchtime $pkg  (in $1)" >&2
  (cd "$1" && go test -run '^$' -bench "$bench" -benchmem -count "$count" -benchtime "$benchtime" -timeout 60m $pkg) >"$2" 2>&1 || {
    cat "$2" >&2
    echo "bench.sh: benchmarks failed in $1" >&2
    return 1
  }
  n=$(grep -c '^Benchmark' "$2" || true)
  echo "bench.sh: $n result lines in $2" >&2
  [ "$n" -gt 0 ] || echo "bench.sh: warning: no benchmark matched '$bench' in $1" >&2
}

if [ -n "$base" ]; then
  rev=$(git rev-parse --verify --quiet "$base^{commit}") || { echo "bench.sh: unknown git ref $base" >&2; exit 2; }
  wt=$(mktemp -d "${TMPDIR:-/tmp}/rpcwire-bench-base.XXXXXX")
  cleanup() { git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"; git worktree prune; }
  trap cleanup EXIT
  git worktree add --quiet --detach "$wt" "$rev"
  old="$dir/base-$(git rev-parse --short "$rev")-$stamp.txt"
  run "$wt" "$old"
fi

run "$root" "$out"

echo
if [ -n "$old" ]; then
  benchstat "old=$old" "new=$out"
else
  benchstat "$out"
fi
echo
echo "bench.sh: raw results in $out${old:+ and $old}" >&2
