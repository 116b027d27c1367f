#!/bin/sh
# pt_ranks.sh — iterations per second of one parallel-tempering chain (K replicas of nuts)
# on 1 process and with its replicas over R MPI ranks (`mpirun -np R bnnmc sample --chains 1
# --sampler pt`, replicas over ranks). The runs are bitwise the same chain (checked here:
# their draws must match), so they do the same work; the rate is the chain's iterations
# over its time (the chain CSV's total, measured inside the run: reading the data and
# writing the folder are left out). With R ranks that time includes each iteration's
# MPI_Allgather of the replicas' values and the flags, and the positions exchanged
# between ranks.
#
# usage: bench/pt_ranks.sh [BNNMC] [DATASET]     (default build/bnnmc, moons2)
# env:   RANKS="1 2"  REPLICAS=8  ITER=600 (burn-in: half)  MODEL="--hidden 20"
set -eu
B=${1:-build/bnnmc}
DATASET=${2:-moons2}
RANKS=${RANKS:-1 2}
REPLICAS=${REPLICAS:-8}
ITER=${ITER:-600}
MODEL=${MODEL:---hidden 20}
[ -x "$B" ] || { echo "$0: $B is not an executable (build first)" >&2; exit 2; }
command -v mpirun > /dev/null || { echo "$0: needs mpirun (sh scripts/setup.sh)" >&2; exit 2; }
# unbound ranks that yield when waiting (see the README's MPI section: a loaded machine
# stalls bound, spinning ranks)
MR="mpirun -q --oversubscribe --bind-to none --mca mpi_yield_when_idle 1"
[ "$(id -u)" = 0 ] && MR="$MR --allow-run-as-root"
tmp=$(mktemp -d /tmp/bnnmc-ptranks-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# the chain's total seconds, from its CSV's elapsed-time block
seconds() {
    awk '/seconds \(Total\)/ { t = $0; sub(/^# */, "", t); sub(/ seconds.*/, "", t); print t }' "$1/chain-1.csv"
}

echo "# $(uname -n), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# pt, K = $REPLICAS replicas of nuts, 1 chain, $ITER iterations (half warm-up), --dataset $DATASET $MODEL"
printf "%8s  %12s  %8s  %s\n" ranks "iter/s" speed-up "draws"
base=""
for R in $RANKS; do
    # shellcheck disable=SC2086
    opts="sample --dataset $DATASET $MODEL --sampler pt --replicas $REPLICAS --chains 1
          --threads 1 --samples $ITER --seed 1 --quiet --force --out $tmp/r$R"
    if [ "$R" = 1 ]; then
        # shellcheck disable=SC2086
        "$B" $opts > /dev/null
    else
        # shellcheck disable=SC2086
        $MR -np "$R" "$B" $opts < /dev/null > /dev/null
    fi
    t=$(seconds "$tmp/r$R")
    rate=$(awk -v n="$ITER" -v t="$t" 'BEGIN { printf "%.4g", n / t }')
    [ -z "$base" ] && base=$rate && first=$R
    same="bitwise those of $first rank(s)"
    grep '^[-0-9]' "$tmp/r$first/chain-1.csv" > "$tmp/a"
    grep '^[-0-9]' "$tmp/r$R/chain-1.csv" > "$tmp/b"
    cmp -s "$tmp/a" "$tmp/b" || same="DIFFER from $first rank(s)"
    printf "%8s  %12s  %7.2fx  %s\n" "$R" "$rate" "$(awk -v a="$rate" -v b="$base" 'BEGIN { print a / b }')" "$same"
done
