#!/bin/sh
# run.sh — runs each libFuzzer harness for SECONDS, one after another, from its seed corpus
# (tests/fuzz/corpus/NAME, left untouched) and a growing corpus in BUILD/fuzz/NAME/corpus.
# Prints per harness the executions and libFuzzer's final coverage (cov: edges, ft:
# features). A crash, hang (> 10 s on one input), leak or out-of-memory stops that harness,
# makes the exit status 1 and leaves the input in BUILD/fuzz/NAME/artifacts/.
# usage: sh tests/fuzz/run.sh BUILD SECONDS [NAME...]   (names: table stancsv init rundir)
# FUZZ_FLAGS adds libFuzzer options, e.g. FUZZ_FLAGS="-fork=1 -ignore_crashes=1".
set -eu
B=$1
S=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- table stancsv init rundir
status=0
for h in "$@"; do
    exe=$B/fuzz_$h
    if [ ! -x "$exe" ]; then
        echo "run.sh: $exe is not built" >&2
        exit 1
    fi
    [ -d "$here/corpus/$h" ] || { echo "run.sh: no seed corpus $here/corpus/$h" >&2; exit 1; }
    w=$B/fuzz/$h
    mkdir -p "$w/corpus" "$w/artifacts"
    rc=0
    before=$(find "$w/artifacts" -type f | wc -l)
    # -close_fd_mask=3: the readers' own stdout/stderr are dropped, sanitizer reports kept
    # shellcheck disable=SC2086
    nice "$exe" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 \
        -print_final_stats=1 -dict="$here/$h.dict" -artifact_prefix="$w/artifacts/" \
        ${FUZZ_FLAGS:-} "$w/corpus" "$here/corpus/$h" >"$w/log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -n 1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$w/log" | tail -n 1 | sed 's/^#[0-9]*:\{0,1\}[[:space:]]*//')
    if [ -z "$last" ]; then
        echo "fuzz_$h: no libFuzzer status line; see $w/log" >&2
        tail -n 20 "$w/log" >&2
        status=1
        continue
    fi
    # -fork mode prints no final stats: its status lines start with the run count
    [ -n "$runs" ] || runs=$(grep -E '^#[0-9]+.*cov: ' "$w/log" | tail -n 1 | sed 's/^#\([0-9]*\).*/\1/')
    echo "fuzz_$h: $runs runs in ${S}s; $last"
    # -fork with -ignore_crashes exits 0 after crashes: count what it saved instead
    after=$(find "$w/artifacts" -type f | wc -l)
    [ "$after" -eq "$before" ] || [ "$rc" -ne 0 ] || rc=1
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "fuzz_$h: FAILED (exit $rc): the input is in $w/artifacts/; log $w/log" >&2
        grep -E 'ERROR|SUMMARY|^fuzz: |#[0-9]+ 0x' "$w/log" | head -n 20 >&2
    fi
done
exit $status
