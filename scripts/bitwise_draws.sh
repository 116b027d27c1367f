#!/bin/sh
# bitwise_draws.sh — the guard rail of a refactor: every sampler on every kind of model, on
# fixed seeds, and one sha256 per run of its draws (the chain CSVs' column names and rows;
# the '#' comment lines, which name settings and timings, are left out). Record before
# moving code, check after: every line must match.
#
# usage: scripts/bitwise_draws.sh record FILE [BNNMC]   write the hashes to FILE
#        scripts/bitwise_draws.sh check FILE [BNNMC]    exit 1 when any run's draws changed
set -eu
mode=${1:-}
ref=${2:-}
B=${3:-build/bnnmc}
case "$mode" in record|check) ;; *) echo "usage: $0 record|check FILE [BNNMC]" >&2; exit 2;; esac
[ -n "$ref" ] || { echo "$0: FILE missing" >&2; exit 2; }
[ -x "$B" ] || { echo "$0: $B is not an executable (build first)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/bnnmc-bitwise-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# name | options (each run: 2 chains, 2 threads, 300 iterations with 150 of burn-in)
runs="linear-rw|--dataset mackey-glass --model linear --sampler rw
linear-langevin|--dataset mackey-glass --model linear --sampler langevin
linear-mala|--dataset mackey-glass --model linear --sampler mala
linear-hmc|--dataset mackey-glass --model linear --sampler hmc
linear-nuts|--dataset mackey-glass --model linear --sampler nuts
linear-gibbs|--dataset mackey-glass --model linear --sampler gibbs
nn-rw|--dataset mackey-glass --sampler rw
nn-langevin|--dataset mackey-glass --sampler langevin
nn-mala|--dataset mackey-glass --sampler mala
nn-hmc|--dataset mackey-glass --sampler hmc
nn-nuts|--dataset mackey-glass --sampler nuts
nn2-nuts|--dataset mackey-glass --hidden 6,4 --activation tanh --sampler nuts
softmax-langevin|--dataset blobs3 --model linear --sampler langevin
softmax-nuts|--dataset blobs3 --model linear --sampler nuts
nn-class-langevin|--dataset blobs3 --sampler langevin
nn-class-nuts|--dataset blobs3 --sampler nuts
nn-class-mala-thin|--dataset moons2 --sampler mala --thin 3"

out=$tmp/hashes
: > "$out"
echo "$runs" | while IFS='|' read -r name opts; do
    # shellcheck disable=SC2086
    "$B" sample $opts --samples 300 --burn-in 150 --chains 2 --threads 2 --seed 7 --quiet \
        --force --out "$tmp/run" > /dev/null
    h=$(cat "$tmp"/run/chain-*.csv | grep -v '^#' |
        sha256sum | cut -c1-64)
    echo "$name $h" >> "$out"
done
if [ "$mode" = record ]; then
    cp "$out" "$ref"
    echo "recorded $(wc -l < "$out") runs in $ref"
    exit 0
fi
if diff "$ref" "$out"; then
    echo "all $(wc -l < "$out") runs bitwise identical"
else
    echo "$0: the draws above changed" >&2
    exit 1
fi
