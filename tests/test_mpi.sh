#!/bin/sh
# test_mpi.sh — `mpirun -np R bnnmc sample` (cli/ranks.c), registered when CMake built MPI.
#  1. chains over ranks: the run folder bitwise the threaded run's with the same seed (every
#     file, times and the process counts removed) for a network by nuts, the linear model by
#     gibbs, the study's langevin on a classification with --save-warmup, pt, mala from
#     --init map with --thin, and 4 chains on 3 ranks (uneven parts); and pt's replicas over
#     ranks, bitwise the same way, all with --save-warmup (the ladder's and the replicas'
#     tuning): 2 chains on 4 ranks with K = 4, K = 5 (uneven blocks) with --swap-every 2,
#     base mala, 1 chain on 3 ranks (blocks of 1, 1, 2), and K = 8 on 4 ranks (a rank
#     exchanging with both neighbours in one round, in order); each checked to exchange often
#     across its ranks (else a broken exchange between ranks could go unseen); --max-time
#     runs converging after several rounds, bitwise too (chains over ranks, and pt's
#     replicas over ranks), and one the time limit stops;
#  2. a chain failing on one rank (chain 4's start on rank 1): exit 1, its message once, no
#     hang, no run written as complete (also with --max-time, on rank 1 and on rank 0); the
#     same for a group of rows-over-ranks, for a group of pt's replicas over ranks, for one
#     rank of a pt group failing alone (rank 1, then rank 0: mpirun's app contexts give it
#     another --init), and for a row slice that one rank alone refuses; Ctrl-C during pt's
#     replicas over ranks and during --max-time's rounds;
#  3. refusals (exit 2, one line, no folder): --checkpoint-every, ranks not a multiple of the chains, langevin and --noise-step
#     gibbs over rows, pt with more ranks per chain than replicas, resume;
#  4. rows over ranks, exactly: short HMC runs with a fixed step size on 2 and 4 ranks (1
#     and 2 chains) against one process, every value of every draw within 1e-9 relative: the
#     trajectories follow the summed gradient through 100s of leapfrog steps, so a slice
#     missing, counted twice, or the prior counted per rank moves them by far more; and a
#     network (the fused/BLAS paths) the same way;
#  5. rows over ranks, statistically: the posterior of a logistic regression (blobs3) on 2
#     ranks against one process, every parameter's mean and sd within 4.5 combined MCSEs
#     (the smallest shift it detects is printed); and the same check, as a power check, must
#     reject a one-process run whose prior variance is halved (what counting the prior on
#     both ranks would give).
# usage: test_mpi.sh BNNMC
set -u
B=${1:?usage: test_mpi.sh BNNMC}
command -v mpirun > /dev/null || { echo "test_mpi: no mpirun: skipped"; exit 77; }
command -v jq > /dev/null || { echo "test_mpi: needs jq"; exit 2; }
# unbound ranks that yield when waiting: a loaded machine (CI, shared cores) stalls bound ones
MR="mpirun --oversubscribe -q --bind-to none --mca mpi_yield_when_idle 1"
[ "$(id -u)" = 0 ] && MR="$MR --allow-run-as-root"
# under ASan (make asan) the ranks leave leak checking out: Open MPI keeps allocations of
# the plug-ins it unloads at MPI_Finalize, which LeakSanitizer can then name no library of
# (so no suppression matches them); the threaded runs here keep it
noleak="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d /tmp/bnnmc-mpi-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

# mpirun -np $1 bnnmc ARGS, killed after 300 s (a hang is a failure); mpirun reads stdin
mpi() { np=$1; shift; ASAN_OPTIONS=$noleak timeout 300 $MR -np "$np" "$B" "$@" < /dev/null; }
# the lines of $tmp/err that are bnnmc's: when a failing rank's sockets close, Open MPI's
# libevent may add a line of its own ("[warn] Epoll MOD(1) on fd 26 failed ... Bad file
# descriptor", seen once in CI), the runtime's, not a second message of bnnmc's
errlines() { grep -cv '^\[warn\] Epoll' "$tmp/err"; }

# a run folder's file with its times, its folder name and its process counts removed
scrub() {
    case "$1" in
    *.json) jq -S 'walk(if type == "object" then with_entries(select((.key | test("seconds|share_of_chain_time|^out$|elapsed|^threads$|^mpi_ranks$")) | not)) else . end)' "$1" | sed "s#$2#RUN#g" ;;
    */chain-*.csv) sed -e '/Elapsed Time/,$d' "$1" ;;
    *) cat "$1" ;;
    esac
}

# same_folder A B: every file of the two run folders identical once scrubbed
same_folder() {
    files=$( (cd "$1" && ls; cd "$2" && ls) | sort -u)
    for f in $files; do
        [ -f "$1/$f" ] && [ -f "$2/$f" ] || { echo "  $f: only in one run"; return 1; }
        scrub "$1/$f" "$1" > "$tmp/a"
        scrub "$2/$f" "$2" > "$tmp/b"
        cmp -s "$tmp/a" "$tmp/b" || { echo "  $f differs"; return 1; }
    done
    n=$(ls "$1" | wc -l)
    [ "$n" -ge 6 ] || { echo "  only $n files"; return 1; }
}

# ---- 1. chains over ranks: bitwise the threaded run
common="--samples 200 --burn-in 100 --seed 11 --checkpoint-every 0 --quiet"
cases="nn-nuts|2|4|--dataset mackey-glass --sampler nuts
linear-gibbs|2|3|--dataset mackey-glass --model linear --sampler gibbs
langevin-class-warmup|2|4|--dataset blobs3 --preset study --samples 200 --save-warmup
pt|2|2|--dataset moons2 --model linear --sampler pt --replicas 3
mala-map-thin|2|3|--dataset moons2 --sampler mala --init map --thin 3
nuts-3ranks|3|4|--dataset blobs3 --model linear --sampler nuts
pt-replicas-k4|4|2|--dataset moons2 --sampler pt --replicas 4 --t-max 3 --save-warmup
pt-replicas-k5-swap2|4|2|--dataset moons2 --sampler pt --replicas 5 --t-max 3 --swap-every 2 --save-warmup
pt-replicas-mala|4|2|--dataset moons2 --sampler pt --base mala --replicas 4 --t-max 3 --save-warmup
pt-replicas-3ranks|3|1|--dataset moons2 --sampler pt --replicas 4 --t-max 3 --save-warmup
pt-replicas-4ranks|4|1|--dataset moons2 --model linear --sampler pt --replicas 8 --t-max 3"
echo "$cases" > "$tmp/cases"
while IFS='|' read -r name np chains opts; do
    # shellcheck disable=SC2086
    "$B" sample $opts $common --chains "$chains" --threads 2 --out "$tmp/$name-thr" 2> "$tmp/err"
    # shellcheck disable=SC2086
    mpi "$np" sample $opts $common --chains "$chains" --threads 1 --out "$tmp/$name-mpi" \
        2>> "$tmp/err"
    rc=$?
    if [ $rc = 0 ] && same_folder "$tmp/$name-thr" "$tmp/$name-mpi"; then
        ok "$name: $chains chains on $np ranks bitwise the threaded run (every file)"
    else
        bad "$name: $chains chains on $np ranks (exit $rc): $(head -c 300 "$tmp/err")"
    fi
done < "$tmp/cases"
# --max-time with the chains (and pt's replicas) over ranks: runs that stop on their targets after several
# rounds (each round a meeting of the ranks, the check on rank 0 over every chain's draws)
# are bitwise the threaded run, rounds and verdict included; a run the time limit stops
# ends between rounds, not converged, its folder whole (every chain as long)
rcases="mt-network|2|4|--dataset moons2 --samples 200 --round 50
mt-linear-3ranks|3|4|--dataset mackey-glass --model linear --samples 400 --round 100 --target-ess 2000
mt-pt-replicas|4|2|--dataset mackey-glass --model linear --sampler pt --replicas 4 --samples 200 --round 50 --target-ess 400"
echo "$rcases" > "$tmp/rcases"
while IFS='|' read -r name np chains opts; do
    # shellcheck disable=SC2086
    "$B" sample $opts --max-time 120 --seed 11 --checkpoint-every 0 --quiet --chains "$chains" --threads 2 --out "$tmp/$name-thr" 2> "$tmp/err"
    # shellcheck disable=SC2086
    mpi "$np" sample $opts --max-time 120 --seed 11 --checkpoint-every 0 --quiet --chains "$chains" --threads 1 \
        --out "$tmp/$name-mpi" 2>> "$tmp/err"
    rc=$?
    rounds=$(jq .rounds "$tmp/$name-mpi/metrics.json" 2> /dev/null)
    if [ $rc = 0 ] && [ "${rounds:-0}" -ge 3 ] && [ "$(jq .converged "$tmp/$name-mpi/metrics.json")" = true ] &&
        same_folder "$tmp/$name-thr" "$tmp/$name-mpi"; then
        ok "$name: --max-time, $chains chains on $np ranks, converged after $rounds rounds, bitwise the threaded run (every file)"
    else
        bad "$name: --max-time on $np ranks (exit $rc, rounds ${rounds:-none}): $(head -c 300 "$tmp/err")"
    fi
done < "$tmp/rcases"
start=$(date +%s)
mpi 2 sample --dataset mackey-glass --model linear --samples 200 --chains 3 --max-time 3 \
    --target-ess 1e12 --quiet --out "$tmp/mt-time" 2> "$tmp/err" > /dev/null
rc=$?
took=$(( $(date +%s) - start ))
rounds=$(jq .rounds "$tmp/mt-time/metrics.json" 2> /dev/null)
kept=$(jq .draws_per_chain "$tmp/mt-time/metrics.json" 2> /dev/null)
rows="$(for c in 1 2 3; do grep -c '^[-0-9]' "$tmp/mt-time/chain-$c.csv"; done | sort -u)"
if [ $rc = 0 ] && [ "$(jq .converged "$tmp/mt-time/metrics.json")" = false ] && [ "${rounds:-0}" -gt 2 ] &&
    [ "$rows" = "${kept:-x}" ] && [ "$took" -le 30 ] && [ $(( (kept - 100) % 100 )) = 0 ] &&
    "$B" summary "$tmp/mt-time" > /dev/null 2>&1; then
    ok "--max-time 3 on 2 ranks, unreachable target: ended not converged after $rounds whole rounds in ${took}s, $kept draws in every chain's CSV"
else
    bad "--max-time on 2 ranks, stopped by time (exit $rc, ${took}s, rounds ${rounds:-none}, kept ${kept:-none}, rows $rows): $(cat "$tmp/err")"
fi

# --max-time with the rows over ranks (4 ranks, 2 chains: each chain's rows split in two):
# a run that reaches its targets after a round or more, and one the time limit stops
# between rounds; each folder whole (every chain as long, summary reads it)
rmt="sample --dataset mackey-glass --model linear --sampler nuts --chains 2 --samples 200 --round 100 --seed 3 --checkpoint-every 0 --quiet"
# shellcheck disable=SC2086
mpi 4 $rmt --max-time 240 --target-ess 100 --out "$tmp/rmt-conv" 2> "$tmp/err" > /dev/null
rc=$?
start=$(date +%s)
# shellcheck disable=SC2086
mpi 4 $rmt --max-time 4 --target-ess 1e12 --out "$tmp/rmt-time" 2>> "$tmp/err" > /dev/null
rc2=$?
took=$(( $(date +%s) - start ))
whole() {   # whole DIR: every chain's CSV as long as metrics.json's draws, summary reads it
    k=$(jq .draws_per_chain "$1/metrics.json" 2> /dev/null)
    r="$(for c in 1 2; do grep -c '^[-0-9]' "$1/chain-$c.csv"; done | sort -u)"
    [ "$r" = "${k:-x}" ] && "$B" summary "$1" > /dev/null 2>&1
}
if [ $rc = 0 ] && [ "$(jq .converged "$tmp/rmt-conv/metrics.json")" = true ] &&
    [ "$(jq .rounds "$tmp/rmt-conv/metrics.json")" -ge 1 ] && whole "$tmp/rmt-conv" &&
    [ $rc2 = 0 ] && [ "$(jq .converged "$tmp/rmt-time/metrics.json")" = false ] &&
    [ "$(jq .rounds "$tmp/rmt-time/metrics.json")" -ge 1 ] && [ "$took" -le 120 ] && whole "$tmp/rmt-time"; then
    ok "--max-time with rows over 4 ranks: converged after $(jq .rounds "$tmp/rmt-conv/metrics.json") round(s); stopped by time after $(jq .rounds "$tmp/rmt-time/metrics.json") round(s) in ${took}s, not converged; both folders whole"
else
    bad "--max-time with rows over ranks (exit $rc / $rc2, ${took}s, converged $(jq .converged "$tmp/rmt-conv/metrics.json") / $(jq .converged "$tmp/rmt-time/metrics.json"), rounds $(jq .rounds "$tmp/rmt-conv/metrics.json") / $(jq .rounds "$tmp/rmt-time/metrics.json")): $(head -c 400 "$tmp/err")"
fi

# the pt cases' power: the pairs whose replicas sit on two ranks must exchange often, or a
# broken exchange between ranks could leave the draws as they are. Each chain's mean
# acceptance probability of such a pair (swap_i__ over its kept draws: about half the
# rounds attempt it, so over 300 iterations with warm-up, 0.2 is some 30 exchanges; NaN
# rows, iterations without a round, left out)
straddle() {   # straddle DIR COLUMN...: the least mean over the chains and columns
    d=$1
    shift
    for f in "$d"/chain-*.csv; do
        for col in "$@"; do
            grep -v '^#' "$f" | awk -F, -v c="$col" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) j = i; next }
                tolower($j) != "nan" { s += $j; n++ } END { print (j && n ? s / n : -1) }'
        done
    done | sort -g | head -1
}
for pc in "pt-replicas-k4 swap_2__" "pt-replicas-k5-swap2 swap_2__" "pt-replicas-mala swap_2__" \
          "pt-replicas-3ranks swap_1__ swap_2__" "pt-replicas-4ranks swap_2__ swap_4__ swap_6__"; do
    set -- $pc
    name=$1
    shift
    m=$(straddle "$tmp/$name-mpi" "$@")
    if awk -v m="$m" 'BEGIN { exit !(m ~ /^[0-9.e-]+$/ && m + 0 >= 0.2) }'; then
        ok "$name: the pairs across ranks ($*) exchanged often (least mean acceptance $m)"
    else
        bad "$name: the pairs across ranks ($*) rarely exchange (least mean acceptance $m): the case has no power"
    fi
done

# ---- 2. one rank's failure
printf 'W1.1,W1.2,W1.3,W1.4,b1,tau2\n0,0,0,0,0.5,0.1\n0,0,0,0,0.5,0.1\n0,0,0,0,0.5,0.1\n0,0,0,0,0.5,5e-324\n' \
    > "$tmp/bad4.init"
mpi 2 sample --dataset mackey-glass --model linear --samples 300 --chains 4 --seed 7 --quiet \
    --init "$tmp/bad4.init" --out "$tmp/fail" 2> "$tmp/err" > /dev/null
rc=$?
n=$(grep -c "chain 4 failed: the log density at the starting point is -inf" "$tmp/err")
if [ $rc = 1 ] && [ "$n" = 1 ] && [ "$(errlines)" = 1 ] && ! [ -f "$tmp/fail/metrics.json" ]; then
    ok "chain 4 failing on rank 1 of 2: exit 1, its message once, no run written: $(cat "$tmp/err")"
else
    bad "chain 4 failing on rank 1 (exit $rc, $n messages): $(cat "$tmp/err")"
fi
# the same with --max-time, chain 4 (rank 1) and then chain 1 (rank 0) failing at its start:
# the failure reaches the other rank at its next progress tick, not at the end of a first
# round of 10^6 iterations (minutes), the rounds' last meeting after it
printf 'W1.1,W1.2,W1.3,W1.4,b1,tau2\n0,0,0,0,0.5,5e-324\n0,0,0,0,0.5,0.1\n0,0,0,0,0.5,0.1\n0,0,0,0,0.5,0.1\n' \
    > "$tmp/bad-chain1.init"
cp "$tmp/bad4.init" "$tmp/bad-chain4.init"
for c in 4 1; do
    start=$(date +%s)
    mpi 2 sample --dataset mackey-glass --model linear --samples 1000000 --chains 4 --seed 7 --quiet \
        --max-time 600 --init "$tmp/bad-chain$c.init" --out "$tmp/fail-mt$c" 2> "$tmp/err" > /dev/null
    rc=$?
    took=$(( $(date +%s) - start ))
    n=$(grep -c "chain $c failed: the log density at the starting point is -inf" "$tmp/err")
    if [ $rc = 1 ] && [ "$n" = 1 ] && [ "$(errlines)" = 1 ] && [ $took -le 60 ] &&
        ! [ -f "$tmp/fail-mt$c/metrics.json" ]; then
        ok "--max-time, chain $c failing on rank $(( c / 4 )) of 2: exit 1 in ${took}s, its message once, no run written"
    else
        bad "--max-time, chain $c failing (exit $rc in ${took}s, $n messages): $(cat "$tmp/err")"
    fi
done
(head -2 "$tmp/bad4.init"; tail -1 "$tmp/bad4.init") > "$tmp/bad2.init"
mpi 4 sample --dataset mackey-glass --model linear --sampler nuts --samples 300 --chains 2 \
    --seed 7 --quiet --init "$tmp/bad2.init" --out "$tmp/fail2" 2> "$tmp/err" > /dev/null
rc=$?
if [ $rc = 1 ] && [ "$(errlines)" = 1 ] && grep -q "chain 2 failed" "$tmp/err"; then
    ok "rows over ranks, chain 2's group failing: exit 1, its message once"
else
    bad "rows over ranks, chain 2's group failing (exit $rc): $(cat "$tmp/err")"
fi
# and with --max-time's rounds: rows over ranks with chain 2's group (ranks 2, 3) and then
# chain 1's (ranks 0, 1, rank 0 among them) failing at the start, and pt's replicas over
# ranks with chain 2's group: exit 1 well before a first round of 10^6 iterations would
# end, the message once, no run written
(head -1 "$tmp/bad4.init"; tail -1 "$tmp/bad4.init"; sed -n 2p "$tmp/bad4.init") > "$tmp/bad-rows1.init"
cp "$tmp/bad2.init" "$tmp/bad-rows2.init"
for spread in "rows 2" "rows 1" "replicas 2"; do
    kind=${spread% *} c=${spread#* }
    if [ $kind = rows ]; then how="--sampler nuts" what="rows"; else how="--sampler pt --replicas 4" what="pt's replicas"; fi
    start=$(date +%s)
    # shellcheck disable=SC2086
    mpi 4 sample --dataset mackey-glass --model linear $how --samples 1000000 --chains 2 \
        --seed 7 --quiet --max-time 600 --init "$tmp/bad-rows$c.init" --out "$tmp/fail-mt-$kind$c" \
        2> "$tmp/err" > /dev/null
    rc=$?
    took=$(( $(date +%s) - start ))
    if [ $rc = 1 ] && [ "$(errlines)" = 1 ] && grep -q "chain $c failed" "$tmp/err" && [ $took -le 60 ] &&
        ! [ -f "$tmp/fail-mt-$kind$c/metrics.json" ]; then
        ok "--max-time with $what over 4 ranks, chain $c's group failing: exit 1 in ${took}s, its message once, no run written"
    else
        bad "--max-time with $what over 4 ranks, chain $c's group failing (exit $rc in ${took}s): $(cat "$tmp/err")"
    fi
done

# pt's replicas over ranks: chain 2's group failing (its start, on both of its ranks) ends
# chain 1's group too (rank 0's stop reaches both of its ranks through their gather)
mpi 4 sample --dataset mackey-glass --model linear --sampler pt --replicas 4 --samples 300 \
    --chains 2 --seed 7 --quiet --init "$tmp/bad2.init" --out "$tmp/fail-pt" 2> "$tmp/err" > /dev/null
rc=$?
if [ $rc = 1 ] && [ "$(errlines)" = 1 ] && grep -q "chain 2 failed" "$tmp/err" &&
    ! [ -f "$tmp/fail-pt/metrics.json" ]; then
    ok "pt's replicas over ranks, chain 2's group failing: exit 1, its message once, no run written"
else
    bad "pt's replicas over ranks, chain 2's group failing (exit $rc): $(cat "$tmp/err")"
fi
# one rank of a pt chain's group failing alone (mpirun's app contexts give rank 1, then rank
# 0, a start outside the support): its partner, moving the other replicas, stops at its
# next gather; exit 1, the message once, no hang, no run written
head -2 "$tmp/bad4.init" > "$tmp/good1.init"
(head -1 "$tmp/bad4.init"; tail -1 "$tmp/bad4.init") > "$tmp/bad1.init"
ptf="sample --dataset mackey-glass --model linear --sampler pt --replicas 4 --samples 2000
     --chains 1 --seed 7 --quiet"
for r in 1 0; do
    if [ $r = 1 ]; then i0=good1 i1=bad1; else i0=bad1 i1=good1; fi
    rm -rf "$tmp/fail-pt1"
    # shellcheck disable=SC2086
    ASAN_OPTIONS=$noleak timeout 300 $MR -np 1 "$B" $ptf --init "$tmp/$i0.init" --out "$tmp/fail-pt1" : \
        -np 1 "$B" $ptf --init "$tmp/$i1.init" --out "$tmp/fail-pt1" < /dev/null 2> "$tmp/err" > /dev/null
    rc=$?
    if [ $rc = 1 ] && [ "$(errlines)" = 1 ] &&
        grep -q "chain 1 failed: the log density at the starting point is -inf" "$tmp/err" &&
        ! [ -f "$tmp/fail-pt1/metrics.json" ]; then
        ok "pt's replicas over 2 ranks, rank $r alone failing: exit 1, its message once, no run written"
    else
        bad "pt's replicas over 2 ranks, rank $r alone failing (exit $rc): $(cat "$tmp/err")"
    fi
done

# ranks that left lockstep (as processors or libraries that round differently would), made
# by mpirun's app contexts: rows over ranks with rank 1 started elsewhere (another --init),
# pt's replicas over ranks with rank 1 on another ladder (--t-max 5 against 4). Each group
# ends with the error at its first meeting: no hang, non-zero exit, no run written
printf 'W1.1,W1.2,W1.3,W1.4,b1,tau2\n0,0,0,0,0.5,0.2\n' > "$tmp/other1.init"
rowl="sample --dataset mackey-glass --model linear --sampler nuts --samples 300 --chains 1 --seed 7 --quiet"
# shellcheck disable=SC2086
ASAN_OPTIONS=$noleak timeout 300 $MR -np 1 "$B" $rowl --init "$tmp/good1.init" --out "$tmp/apart-rows" : \
    -np 1 "$B" $rowl --init "$tmp/other1.init" --out "$tmp/apart-rows" < /dev/null 2> "$tmp/err" > /dev/null
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "rows over ranks: the ranks of a chain's group evaluated different points" "$tmp/err" &&
    ! [ -f "$tmp/apart-rows/metrics.json" ]; then
    ok "rows over 2 ranks out of lockstep (another start on rank 1): exit $rc, the error, no run written"
else
    bad "rows over 2 ranks out of lockstep (exit $rc): $(head -3 "$tmp/err")"
fi
ptl="sample --dataset mackey-glass --model linear --sampler pt --replicas 4 --samples 300 --chains 1 --seed 7 --quiet"
# shellcheck disable=SC2086
ASAN_OPTIONS=$noleak timeout 300 $MR -np 1 "$B" $ptl --t-max 4 --out "$tmp/apart-pt" : \
    -np 1 "$B" $ptl --t-max 5 --out "$tmp/apart-pt" < /dev/null 2> "$tmp/err" > /dev/null
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "pt's replicas over ranks: the ranks of a chain's group hold different ladders" "$tmp/err" &&
    ! [ -f "$tmp/apart-pt/metrics.json" ]; then
    ok "pt's replicas over 2 ranks out of lockstep (another ladder on rank 1): exit $rc, the error, no run written"
else
    bad "pt's replicas over 2 ranks out of lockstep (exit $rc): $(head -3 "$tmp/err")"
fi

# Ctrl-C (mpirun passes SIGINT on) during a pt chain on 2 ranks: exit 1, the draws so far
# written as partial, and they are the threaded run's first draws, the last one included
# (a rank stopping an iteration apart from its partner would leave that iteration without
# its exchange round)
ptc="--dataset moons2 --sampler pt --replicas 4 --t-max 3 --chains 1 --burn-in 100 --seed 3"
# shellcheck disable=SC2086
ASAN_OPTIONS=$noleak timeout 300 $MR -np 2 "$B" sample $ptc --samples 100000 --out "$tmp/int" \
    < /dev/null > /dev/null 2> "$tmp/err" &
mp=$!
# interrupted once its progress line shows it past warm-up (up to 2 minutes: a loaded machine)
i=0
while [ $i -lt 120 ]; do
    sleep 1
    i=$((i + 1))
    d=$(grep -o '^[0-9]*/' "$tmp/err" | tail -1 | tr -d /)
    [ "${d:-0}" -gt 150 ] && break
done
# the ranks themselves get SIGINT (as a terminal's Ctrl-C reaches the whole process group):
# mpirun's own handling of a SIGINT sent to it alone can end the job before the ranks write
# (seen once in CI: exit 1, no partial folder)
pkill -INT -P $mp || kill -INT $mp
wait $mp
rc=$?
n=$(grep -c '^[-0-9]' "$tmp/int/chain-1.csv" 2> /dev/null)
# shellcheck disable=SC2086
[ "${n:-0}" -gt 0 ] && "$B" sample $ptc --quiet --samples $((n + 100)) --out "$tmp/int-thr" 2>> "$tmp/err"
grep '^[-0-9]' "$tmp/int/chain-1.csv" > "$tmp/a" 2> /dev/null
grep '^[-0-9]' "$tmp/int-thr/chain-1.csv" > "$tmp/b" 2> /dev/null
if [ $rc = 1 ] && [ "${n:-0}" -gt 0 ] && grep -q "marked partial" "$tmp/err" && cmp -s "$tmp/a" "$tmp/b"; then
    ok "Ctrl-C during pt's replicas over 2 ranks: exit 1, $n draws written as partial, bitwise the threaded run's first $n"
else
    bad "Ctrl-C during pt's replicas over 2 ranks (exit $rc, ${n:-0} draws): $(tail -3 "$tmp/err")"
fi

# threaded_prefix DIR ARGS...: DIR holds a stopped run of ARGS (3 chains, burn-in 100); rows
# gets the draw counts of its chains (one line when all are as long), n the first, and same
# 1 when every chain is bitwise the first n draws of the threaded run of ARGS (DIR-thr)
threaded_prefix() {
    dir=$1
    shift
    rows="$(for c in 1 2 3; do grep -c '^[-0-9]' "$dir/chain-$c.csv" 2> /dev/null; done | sort -u)"
    n=$(echo "$rows" | head -1)
    [ "${n:-0}" -gt 0 ] && "$B" sample "$@" --quiet --samples $((n + 100)) --out "$dir-thr" 2>> "$tmp/err"
    same=1
    for c in 1 2 3; do
        grep '^[-0-9]' "$dir/chain-$c.csv" > "$tmp/a" 2> /dev/null
        grep '^[-0-9]' "$dir-thr/chain-$c.csv" > "$tmp/b" 2> /dev/null
        cmp -s "$tmp/a" "$tmp/b" || same=0
    done
}

# Ctrl-C during --max-time's rounds on 2 ranks, past round 3: exit 1, the draws so far
# written as partial, every chain as long, and they are the plain threaded run's first draws
# interrupt_round NP ROUND DIR ARGS...: `bnnmc sample ARGS` on NP ranks, run until converged
# towards targets it cannot reach, Ctrl-C'd (the ranks themselves get SIGINT, as above) once
# its progress reaches ROUND (at most 2 minutes); rc its exit status, stderr in $tmp/err
interrupt_round() {
    np=$1 round=$2 dir=$3
    shift 3
    # shellcheck disable=SC2086
    ASAN_OPTIONS=$noleak timeout 300 $MR -np "$np" "$B" sample "$@" --samples 200 --max-time 250 \
        --target-ess 1e12 --out "$dir" < /dev/null > /dev/null 2> "$tmp/err" &
    mp=$!
    i=0
    while [ $i -lt 120 ] && ! grep -q "^bnnmc: round $round," "$tmp/err"; do
        sleep 1
        i=$((i + 1))
    done
    pkill -INT -P $mp || kill -INT $mp
    wait $mp
    rc=$?
}
mtc="--dataset mackey-glass --model linear --chains 3 --burn-in 100 --seed 5 --checkpoint-every 0"
# shellcheck disable=SC2086
interrupt_round 2 3 "$tmp/int-mt" $mtc
# shellcheck disable=SC2086
threaded_prefix "$tmp/int-mt" $mtc
if [ $rc = 1 ] && [ "$(echo "$rows" | wc -l)" = 1 ] && [ "${n:-0}" -ge 300 ] && [ $same = 1 ] &&
    grep -q "marked partial" "$tmp/err" && grep -q '"status":.*partial: stopped after .* in round' "$tmp/int-mt/metrics.json"; then
    ok "Ctrl-C during --max-time's rounds on 2 ranks: exit 1, $n draws in every chain written as partial, bitwise the threaded run's first $n"
else
    bad "Ctrl-C during --max-time's rounds on 2 ranks (exit $rc, rows $(echo $rows), same $same): $(tail -3 "$tmp/err")"
fi

# Ctrl-C during --max-time's rounds with the rows over ranks (4 ranks, 2 chains of 2 ranks
# each), past round 2: exit 1, the draws so far written as partial, every chain as long, the
# folder whole (summary reads it). Not compared draw by draw with one process: the slices'
# sum differs from it in the last bits (section 4 bounds that).
interrupt_round 4 2 "$tmp/int-rr" --dataset mackey-glass --model linear --sampler nuts --chains 2 \
    --burn-in 100 --seed 6 --checkpoint-every 0
rows="$(for c in 1 2; do grep -c '^[-0-9]' "$tmp/int-rr/chain-$c.csv" 2> /dev/null; done | sort -u)"
if [ $rc = 1 ] && [ "$(echo "$rows" | wc -l)" = 1 ] && [ "${rows:-0}" -ge 200 ] &&
    grep -q "marked partial" "$tmp/err" && grep -q '"status":.*partial: stopped after .* in round' "$tmp/int-rr/metrics.json" &&
    "$B" summary "$tmp/int-rr" > /dev/null 2>&1; then
    ok "Ctrl-C during --max-time's rounds with the rows over 4 ranks: exit 1, $rows draws in both chains written as partial, summary reads the folder"
else
    bad "Ctrl-C during --max-time's rounds with the rows over ranks (exit $rc, rows $(echo $rows)): $(tail -3 "$tmp/err")"
fi

# Ctrl-C reaching one rank alone (a signal from a batch system, say), chains over 2 ranks,
# for each rank: the whole run stops (the other rank's chains too, not at their end: the
# run has 400,000 iterations a chain, minutes), exit 1, every chain as long, the threaded
# run's first draws (the run of the case above)
for r in 0 1; do
    # shellcheck disable=SC2086
    ASAN_OPTIONS=$noleak timeout 300 $MR -np 2 "$B" sample $mtc --samples 400000 \
        --out "$tmp/one-$r" < /dev/null > /dev/null 2> "$tmp/err" &
    mp=$!
    i=0
    while [ $i -lt 120 ]; do
        sleep 1
        i=$((i + 1))
        d=$(grep -o '^[0-9]*/' "$tmp/err" | tail -1 | tr -d /)
        [ "${d:-0}" -gt 3000 ] && break
    done
    target=
    for p in $(pgrep -f "$tmp/one-$r\$"); do   # the ranks (and the launchers, without a rank)
        [ "$(tr '\0' '\n' < /proc/$p/environ 2> /dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" = $r ] && target=$p
    done
    t0=$(date +%s)
    [ -n "$target" ] && kill -INT "$target"
    wait $mp
    rc=$?
    took=$(( $(date +%s) - t0 ))
    # shellcheck disable=SC2086
    threaded_prefix "$tmp/one-$r" $mtc
    if [ -n "$target" ] && [ $rc = 1 ] && [ "$took" -lt 60 ] && [ "$(echo "$rows" | wc -l)" = 1 ] &&
        [ "${n:-0}" -gt 0 ] && [ "$n" -lt 399900 ] && [ $same = 1 ] &&
        grep -q '"status":.*partial: stopped after' "$tmp/one-$r/metrics.json"; then
        ok "Ctrl-C on rank $r alone: the run stops in ${took}s, exit 1, $n draws in every chain written as partial, bitwise the threaded run's first $n"
    else
        bad "Ctrl-C on rank $r alone (pid ${target:-none}, exit $rc after ${took}s, rows $(echo $rows), same $same): $(tail -3 "$tmp/err")"
    fi
done

# a slice model refused on rank 0 only (6 of 13 rows for a flat prior on 6 coefficients;
# rank 1's 7 rows pass): the ranks agree before any collective of the run, none waits
awk 'BEGIN { srand(3); for (i = 0; i < 13; i++) { s = 0; for (j = 1; j <= 5; j++) {
     x = rand(); s += j * x; printf "%.4f ", x }; printf "%.4f\n", s + 0.1 * rand() } }' \
    > "$tmp/flat13.txt"
mpi 2 sample --train "$tmp/flat13.txt" --model linear --prior-var inf --chains 1 --quiet \
    --out "$tmp/fail3" 2> "$tmp/err" > /dev/null
rc=$?
if [ $rc = 2 ] && [ "$(errlines)" = 1 ] && grep -q "rank 0: rows over ranks: the slice of rows 1..6: model: a flat prior" "$tmp/err"; then
    ok "rows over ranks, one rank's slice refused: exit 2, once: $(cat "$tmp/err")"
else
    bad "rows over ranks, one rank's slice refused (exit $rc): $(cat "$tmp/err")"
fi

# ---- 3. refusals
refuse() {   # refuse NP WANT ARGS...
    np=$1 want=$2
    shift 2
    rm -rf "$tmp/ref"
    mpi "$np" "$@" --out "$tmp/ref" 2> "$tmp/err" > /dev/null
    rc=$?
    if [ $rc = 2 ] && grep -q -- "$want" "$tmp/err" && [ "$(errlines)" = 1 ] &&
        ! [ -e "$tmp/ref" ]; then
        ok "refused (exit 2, one line, no folder): $(cat "$tmp/err")"
    else
        bad "not refused as wanted ($want; exit $rc): $(cat "$tmp/err")"
    fi
}
refuse 2 "checkpoints are not written under MPI" sample --dataset mackey-glass --checkpoint-every 5
refuse 3 "must be a multiple of --chains" sample --dataset mackey-glass --chains 2
refuse 4 "sampler langevin: rows over ranks" sample --dataset mackey-glass --chains 2 --sampler langevin
refuse 4 "noise-step gibbs: rows over ranks" sample --dataset mackey-glass --chains 2 --noise-step gibbs
refuse 4 "center yes: rows over ranks" sample --dataset mackey-glass --chains 2 --center yes
refuse 4 "axes yes: rows over ranks" sample --dataset mackey-glass --chains 2 --axes yes
refuse 4 "replicas 3: pt's replicas over ranks" sample --dataset mackey-glass --chains 1 --sampler pt --replicas 3
refuse 6 "must be a multiple of --chains" sample --dataset mackey-glass --chains 4 --sampler pt
refuse 2 "does not spread over MPI ranks" resume "$tmp/nn-nuts-mpi"
refuse 2 "unknown data set" sample --dataset nothing-of-the-kind

# ---- 4. rows over ranks against one process, draw by draw
# close DIR_A DIR_B: every value of every draw row within 1e-9 relative (1e-12 absolute)
close() {
    for f in "$1"/chain-*.csv; do
        g="$2/$(basename "$f")"
        paste -d, "$f" "$g" | grep -v '^#' | tail -n +2 | awk -F, '
            { n = NF / 2; for (i = 1; i <= n; i++) { a = $i; b = $(i + n); d = a - b; d = d < 0 ? -d : d
              s = (a < 0 ? -a : a); s = s < 1e-3 ? 1e-3 : s; if (d / s > w) w = d / s } rows++ }
            END { printf "%d %.3g\n", rows, w; exit !(rows > 0 && w < 1e-9) }' > "$tmp/close" ||
            return 1
        cat "$tmp/close"
    done
}
hmc="--sampler hmc --no-adapt --stepsize 0.02 --int-time 3 --samples 12 --burn-in 0 --seed 5"
hmc="$hmc --checkpoint-every 0 --quiet"
# shellcheck disable=SC2086
"$B" sample --dataset blobs3 --model linear $hmc --chains 1 --threads 1 --out "$tmp/h1" 2> /dev/null
# shellcheck disable=SC2086
mpi 2 sample --dataset blobs3 --model linear $hmc --chains 1 --out "$tmp/h1-mpi" 2> "$tmp/err"
if out=$(close "$tmp/h1" "$tmp/h1-mpi"); then
    ok "rows over 2 ranks, logistic regression, 12 HMC draws of 150 leapfrog steps: every value within 1e-9 of one process (rows, worst: $out)"
else
    bad "rows over 2 ranks, HMC draws against one process: $out $(cat "$tmp/err")"
fi
# rows over ranks sample the model's own coordinates (--center no --axes no): each rank's
# rows alone cannot give the means the centred level needs, and the slices' sum is the
# model's own density; in double precision (single sums each slice's gradient in float)
# shellcheck disable=SC2086
"$B" sample --dataset mackey-glass --hidden 6 $hmc --center no --axes no --precision double --chains 2 --threads 2 --out "$tmp/h2" 2> /dev/null
# shellcheck disable=SC2086
mpi 4 sample --dataset mackey-glass --hidden 6 $hmc --chains 2 --out "$tmp/h2-mpi" 2> "$tmp/err"
if out=$(close "$tmp/h2" "$tmp/h2-mpi"); then
    ok "rows over 4 ranks (2 chains of 2 ranks), network regression: every value of 12 HMC draws per chain within 1e-9 of one process ($(echo $out))"
else
    bad "rows over 4 ranks, network HMC draws against one process: $out $(cat "$tmp/err")"
fi

# ---- 5. rows over ranks against one process, within MCSE
# agree DIR_A DIR_B: mean and sd of lp__ and every parameter within 4.5 combined MCSEs (the
# sd's MCSE taken as sd / sqrt(2 ESS_bulk), its normal-theory value); prints the worst z and
# the smallest shift of a mean it would detect, in posterior sds
agree() {
    paste -d, "$1/summary.csv" "$2/summary.csv" | tail -n +2 | awk -F, '
        function abs(x) { return x < 0 ? -x : x }
        { m1 = $2; s1 = $3; e1 = $7; n1 = $8; m2 = $13; s2 = $14; e2 = $18; n2 = $19
          z = abs(m1 - m2) / sqrt(e1 * e1 + e2 * e2); if (z > w) { w = z; wn = $1 " mean" }
          zs = abs(s1 - s2) / sqrt(s1 * s1 / (2 * n1) + s2 * s2 / (2 * n2)); if (zs > w) { w = zs; wn = $1 " sd" }
          d = 4.5 * sqrt(e1 * e1 + e2 * e2) / s2; if (d > dmax) dmax = d }
        END { printf "worst z %.2f (%s); smallest mean shift detected %.2f posterior sd", w, wn, dmax
              exit !(NR > 0 && w < 4.5) }'
}
long="--dataset blobs3 --model linear --sampler nuts --samples 5000 --checkpoint-every 0 --quiet"
# shellcheck disable=SC2086
mpi 2 sample $long --chains 1 --seed 3 --out "$tmp/rows" 2> "$tmp/err"
# shellcheck disable=SC2086
"$B" sample $long --chains 4 --threads 2 --seed 4 --out "$tmp/one" 2>> "$tmp/err"
if out=$(agree "$tmp/rows" "$tmp/one"); then
    ok "rows over 2 ranks against one process, logistic regression, 4000 draws: $out"
else
    bad "rows over 2 ranks against one process: $out $(cat "$tmp/err")"
fi
# shellcheck disable=SC2086
"$B" sample $long --chains 4 --threads 2 --seed 4 --prior-var 2.5 --out "$tmp/half" 2>> "$tmp/err"
if out=$(agree "$tmp/rows" "$tmp/half"); then
    bad "power: the check accepted a posterior with the prior counted twice: $out"
else
    ok "power: the same check rejects a one-process run with the prior variance halved (the prior counted on both ranks): $out"
fi

echo "test_mpi: $pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
