#!/bin/sh
# bench_read.sh — writes friedman1:N (default 10^7 rows, about 2.2 GB of text) to a
# temporary folder and times bnn_table_read on it (bench_read: seconds and peak RSS).
# usage: bench/bench_read.sh [N] [BUILD_DIR]   (defaults 10000000, build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10000000}
BUILD=${2:-$here/build}
T=$(mktemp -d /tmp/bnnmc-read-XXXXXX)
trap 'rm -rf "$T"' EXIT
s0=$(date +%s.%N)
"$BUILD/bnnmc" datasets --write "friedman1:$N" "$T" --test 0
s1=$(date +%s.%N)
printf 'wrote friedman1:%s: %s bytes in %.1f s\n' "$N" "$(wc -c <"$T/train.txt")" "$(echo "$s1 - $s0" | bc)"
"$BUILD/bench_read" "$T/train.txt"
