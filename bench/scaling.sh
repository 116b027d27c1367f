#!/bin/sh
# scaling.sh — gradient evaluations per second of the study's network (10 sigmoid units) as
# the training rows grow (10^3 .. 10^6) and as the rows are split over MPI ranks (1, 2, 4:
# `mpirun -np R bnnmc sample --chains 1`, rows over ranks). The data: Friedman (1991)'s
# first function, generated here (awk): 10 inputs uniform on [0,1], y = 10 sin(pi x1 x2) +
# 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0,1), scaled to [0,1] by (y + 6) / 42 (x6..x10 are
# noise inputs).
#
# Each run is HMC with a fixed step size and integration time (no adaptation, no warm-up),
# so every iteration is exactly L = int-time / stepsize gradient evaluations; the rate is
# the sum of the chain's n_leapfrog__ over its sampling time (the chain CSV's, measured
# inside the run: reading the data and writing the folder are left out). With R ranks the
# chain's time includes the MPI_Allreduce of each evaluation (dim + 3 doubles).
#
# usage: bench/scaling.sh [BNNMC] [ROWS...]     (default rows: 1000 10000 100000 1000000)
# env:   RANKS="1 2 4"  OVERSUBSCRIBE=1 (allow more ranks than cores)  EVALS=4000 (per run,
#        roughly: the iterations are chosen from it, at least 4 of them)
set -eu
B=${1:-build/bnnmc}
[ $# -gt 0 ] && shift
ROWS=${*:-1000 10000 100000 1000000}
RANKS=${RANKS:-1 2 4}
EVALS=${EVALS:-4000}
[ -x "$B" ] || { echo "$0: $B is not an executable (build first)" >&2; exit 2; }
command -v mpirun > /dev/null || { echo "$0: needs mpirun (sh scripts/setup.sh)" >&2; exit 2; }
# --bind-to none: Open MPI binds each of 2 ranks to a core of its own, where a busy core
# (another program) stalls every reduction; unbound, the ranks move to whichever core is free
MR="mpirun -q --bind-to none --mca mpi_yield_when_idle 1"
[ "${OVERSUBSCRIBE:-1}" = 1 ] && MR="$MR --oversubscribe"
[ "$(id -u)" = 0 ] && MR="$MR --allow-run-as-root"
tmp=$(mktemp -d /tmp/bnnmc-scaling-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# friedman1 N SEED > FILE: N rows of 10 inputs and the scaled target
friedman1() {
    awk -v n="$1" -v seed="$2" 'BEGIN {
        srand(seed); pi = atan2(0, -1)
        for (i = 0; i < n; i++) {
            for (j = 1; j <= 10; j++) x[j] = rand()
            u = rand(); v = rand(); if (u < 1e-300) u = 1e-300
            e = sqrt(-2 * log(u)) * cos(2 * pi * v)
            y = 10 * sin(pi * x[1] * x[2]) + 20 * (x[3] - 0.5) ^ 2 + 10 * x[4] + 5 * x[5] + e
            printf "%.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f\n",
                x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], (y + 6) / 42
        } }'
}

# evals per second of run folder $1: sum of n_leapfrog__ over the sampling time
rate() {
    awk -F, '/^#  Elapsed Time:/ { next } /Sampling\)/ { t = $1; sub(/^# */, "", t); sub(/ seconds.*/, "", t) }
             /^[-0-9]/ { s += $5 } END { printf "%.4g", s / t }' "$1/chain-1.csv"
}

L=10
echo "# $(uname -n), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start, $(date -u +%Y-%m-%dT%H:%MZ); network 10-10-1 sigmoid, HMC L=$L"
printf "%10s" rows
for R in $RANKS; do printf "  %14s" "$R rank(s)"; done
printf "  %s\n" "speed-up (evals/s of R ranks over 1)"
for N in $ROWS; do
    friedman1 "$N" 1991 > "$tmp/train.txt"
    # iterations: about EVALS evaluations on one process at ~ 2e7 row-evaluations per second
    it=$(awk -v n="$N" -v e="$EVALS" -v l=$L 'BEGIN { i = int(e / l); c = int(2e8 / (n * l));
         if (c < i) i = c; if (i < 4) i = 4; print i }')
    opts="--train $tmp/train.txt --hidden 10 --sampler hmc --no-adapt --stepsize 0.0005
          --int-time 0.005 --samples $it --burn-in 0 --chains 1 --threads 1 --seed 1
          --checkpoint-every 0 --quiet --force"
    printf "%10s" "$N"
    base=""
    line=""
    for R in $RANKS; do
        rm -rf "$tmp/run"
        if [ "$R" = 1 ]; then
            # shellcheck disable=SC2086
            "$B" sample $opts --out "$tmp/run" > /dev/null
        else
            # shellcheck disable=SC2086
            $MR -np "$R" "$B" sample $opts --out "$tmp/run" < /dev/null > /dev/null
        fi
        r=$(rate "$tmp/run")
        [ -z "$base" ] && base=$r
        printf "  %14s" "$r/s"
        line="$line $(awk -v a="$r" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')"
    done
    printf " %s\n" "$line"
done
