#!/bin/sh
# test_resume.sh — runs that survive: kill -9 at random moments and `bnnmc resume` until the
# run completes gives the draws of the run never interrupted, bitwise (nuts, the study's
# langevin, pt); SIGTERM and Ctrl-C stop with a checkpoint; `bnnmc extend` equals the longer
# run; a failed checkpoint write (a file-size limit) ends with exit 1 and stays resumable;
# the lock; the refusals (complete run, changed data, no run folder); --adapt-from.
# usage: test_resume.sh BNNMC
B=$1
T=$(mktemp -d /tmp/bnnmc-resume-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

mkdir -p "$T/data"
"$B" datasets --write mackey-glass "$T/data" >/dev/null 2>&1 || { echo "NOT OK datasets --write"; exit 1; }
TRAIN="$T/data/train.txt"
TEST="$T/data/test.txt"

# What must not depend on interruptions: every draw row of every chain CSV, summary.csv and
# the predictions (not the timing lines, nor metrics.json's seconds).
same_run() {
    for f in "$1"/chain-*.csv; do
        g="$2/$(basename "$f")"
        [ -f "$g" ] || return 1
        grep -v '^#' "$f" > "$T/a" && grep -v '^#' "$g" > "$T/b" && cmp -s "$T/a" "$T/b" || return 1
    done
    for f in summary.csv pred-train.csv pred-test.csv; do
        cmp -s "$1/$f" "$2/$f" || return 1
    done
    [ "$(ls "$1"/chain-*.csv | wc -l)" -eq "$(ls "$2"/chain-*.csv | wc -l)" ]
}

# a random delay in [lo, hi) seconds, from awk's rand() seeded by the shell's pid and a count
n_rand=0
rand_delay() {
    n_rand=$((n_rand + 1))
    awk -v s="$$$n_rand" -v lo="$1" -v hi="$2" 'BEGIN { srand(s); printf "%.2f", lo + (hi - lo) * rand() }'
}

running() { grep -q '"status":[[:space:]]*"running' "$1/config.json" 2>/dev/null; }
# waits (at most 10 s) until the run in DIR has started sampling: a loaded machine may take
# a while to get there, and a kill before it would test nothing
wait_running() {
    n=0
    while ! running "$1" && [ $n -lt 200 ]; do
        sleep 0.05
        n=$((n + 1))
    done
}

# interrupt DIR ARGS...: `bnnmc sample ARGS --out DIR`, stopped (SIGTERM) $stop_after
# seconds after it has started sampling
interrupt() {
    dir=$1
    shift
    "$B" sample "$@" --out "$dir" 2>"$T/err" &
    ipid=$!
    wait_running "$dir"
    sleep "$stop_after"
    kill -TERM $ipid
    wait $ipid
}

# uncut DIR ARG: ARG taken out of DIR's recorded command, as if the run had not given it;
# sets cut to yes when no trace of it is left
uncut() {
    sed -z -i "/^$2\$/d" "$1/checkpoint/command"
    cut=yes
    grep -qa -- "${2%%=*}" "$1/checkpoint/command" && cut=no
}

# now in milliseconds
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# kill_resume NAME OPTIONS...: the reference run; then the same run killed (-9) at a random
# moment of its sampling, resumed and killed again twice, and resumed to the end; compares.
# Checkpoints every 0.05 s (each fsync'ed): kills land during writes too. Each kill comes
# after 8-20% of the reference run's time, so three of them stop the run before its end
# on a fast machine as on a slow one (a resume also redoes the work since its checkpoint).
kill_resume() {
    name=$1
    shift
    t0=$(now_ms)
    "$B" sample --train "$TRAIN" --test "$TEST" "$@" --quiet --out "$T/$name-ref" 2>"$T/err" ||
        { bad "$name: the reference run failed: $(cat "$T/err")"; return; }
    ref_s=$(awk -v ms=$(($(now_ms) - t0)) 'BEGIN { printf "%.3f", ms / 1000 }')
    lo=$(awk -v r="$ref_s" 'BEGIN { printf "%.3f", 0.08 * r }')
    hi=$(awk -v r="$ref_s" 'BEGIN { printf "%.3f", 0.20 * r }')
    "$B" sample --train "$TRAIN" --test "$TEST" "$@" --quiet --checkpoint-every 0.05 \
        --out "$T/$name" 2>"$T/err" &
    pid=$!
    wait_running "$T/$name"
    sleep "$(rand_delay "$lo" "$hi")"
    kills=0
    # a kill counts when it stopped a run (not one that had just finished)
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    running "$T/$name" && kills=1
    # a checkpoint write cut short by a kill leaves a .tmp: resume must ignore it
    [ -d "$T/$name/checkpoint" ] && printf 'garbage' > "$T/$name/checkpoint/chain-1.bin.tmp"
    for attempt in 1 2; do
        "$B" resume "$T/$name" --quiet 2>"$T/err-r" &
        pid=$!
        sleep "$(rand_delay "$lo" "$hi")"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        running "$T/$name" && kills=$((kills + 1))
    done
    code=0
    if grep -q '"status":[[:space:]]*"running' "$T/$name/config.json"; then
        "$B" resume "$T/$name" --quiet 2>"$T/err-r"
        code=$?
    fi
    [ $code -eq 0 ] || { bad "$name: the last resume exited $code: $(cat "$T/err-r")"; return; }
    if [ $kills -ge 2 ] && same_run "$T/$name-ref" "$T/$name"; then
        ok "$name: killed $kills times (-9) and resumed: draws, summary, predictions bitwise those of the run never interrupted"
    else
        bad "$name: after $kills kills (want >= 2; reference run $ref_s s) the resumed run differs from the uninterrupted one"
    fi
}

kill_resume nuts --sampler nuts --max-depth 6 --hidden 5 --samples 3000 --chains 2 --seed 3
# the stops below (SIGTERM, SIGINT, interrupt) come after 30% of that nuts run's time
# (its sampling is most of it): a fixed 0.3 s came within 0.05 s of the end of its
# sampling on a fast machine, and a stop after it tests nothing
stop_after=$(awk -v r="$ref_s" 'BEGIN { printf "%.3f", 0.3 * r }')
kill_resume langevin --preset study --hidden 5 --samples 40000 --thin 10 --chains 2 --seed 4
kill_resume pt --sampler pt --replicas 3 --max-depth 5 --hidden 5 --samples 2000 --chains 2 --seed 5

# SIGTERM (and Ctrl-C, SIGINT) stop the run: partial files and a checkpoint where it stopped
for sig in TERM INT; do
    "$B" sample --train "$TRAIN" --test "$TEST" --sampler nuts --max-depth 6 --hidden 5 --samples 3000 \
        --chains 2 --seed 3 --quiet --out "$T/sig$sig" 2>"$T/err" &
    pid=$!
    wait_running "$T/sig$sig"
    sleep "$stop_after"
    kill -$sig $pid
    wait $pid
    code=$?
    grep -q '"status":[[:space:]]*"partial' "$T/sig$sig/config.json" 2>/dev/null && [ $code -eq 1 ] &&
        ok "SIG$sig: exit 1, the run written as partial" || bad "SIG$sig: exit $code, $(cat "$T/err")"
    # without chain 2's checkpoint (SIGTERM's case) that chain starts afresh: the same draws
    [ $sig = TERM ] && rm -f "$T/sig$sig/checkpoint/chain-2.bin"
    "$B" resume "$T/sig$sig" --quiet 2>"$T/err"
    code=$?
    [ $code -eq 0 ] && same_run "$T/nuts-ref" "$T/sig$sig" && ok "SIG$sig: resumed, equal to the uninterrupted run$([ $sig = TERM ] && echo ' (chain 2 from no checkpoint)')" ||
        bad "SIG$sig: resume exit $code, $(cat "$T/err")"
done

# --precision: recorded in config.json, which resume follows (the chains' cached log
# densities are that precision's), whatever the recorded command says: a run given
# --precision=double (nuts's default is single), cut from its recorded command, interrupted
# and resumed, has the draws of the double run never interrupted, not the single one's
if grep -qw avx2 /proc/cpuinfo; then   # a processor without it has no single precision
    "$B" sample --train "$TRAIN" --test "$TEST" --sampler nuts --max-depth 6 --hidden 5 --samples 3000 \
        --chains 2 --seed 3 --precision=double --quiet --out "$T/f64-ref" 2>"$T/err"
    interrupt "$T/f64" --train "$TRAIN" --test "$TEST" --sampler nuts --max-depth 6 --hidden 5 \
        --samples 3000 --chains 2 --seed 3 --precision=double --quiet
    uncut "$T/f64" --precision=double
    "$B" resume "$T/f64" --quiet 2>"$T/err"
    code=$?
    [ $code -eq 0 ] && [ $cut = yes ] && same_run "$T/f64-ref" "$T/f64" && ! same_run "$T/nuts-ref" "$T/f64" &&
        grep -q '"precision":[[:space:]]*"double"' "$T/f64/config.json" &&
        grep -q '"precision":[[:space:]]*"single"' "$T/nuts-ref/config.json" &&
        ok "--precision: recorded, kept by resume (not in the recorded command), equal to the uninterrupted run, not the other precision's" ||
        bad "--precision and resume: exit $code, cut $cut, $(cat "$T/err")"
fi

# extend: 3000 iterations (1500 burn-in) plus 120 draws = a run of 3120 with burn-in 1500
"$B" sample --train "$TRAIN" --test "$TEST" --sampler nuts --max-depth 6 --hidden 5 --samples 3120 --burn-in 1500 \
    --chains 2 --seed 3 --quiet --out "$T/long" 2>"$T/err"
cp -r "$T/nuts-ref" "$T/ext"
"$B" extend "$T/ext" --draws 120 --quiet 2>"$T/err"
code=$?
[ $code -eq 0 ] && same_run "$T/long" "$T/ext" && grep -q "num_samples = 1620" "$T/ext/chain-1.csv" &&
    ok "extend --draws 120 equals the run that asked for 3120 iterations (the folder moved since)" ||
    bad "extend: exit $code, $(cat "$T/err")"
"$B" extend "$T/sigTERM" 2>"$T/err"
[ $? -eq 2 ] && grep -q -- "--draws K is required" "$T/err" && ok "extend needs --draws" || bad "extend without --draws: $(cat "$T/err")"
cp -r "$T/nuts-ref" "$T/ext2"
rm "$T/ext2/checkpoint/chain-2.bin"
"$B" extend "$T/ext2" --draws 10 --quiet 2>"$T/err"
[ $? -eq 2 ] && grep -q "1 of 2 chains have a final checkpoint" "$T/err" && cmp -s "$T/ext2/summary.csv" "$T/nuts-ref/summary.csv" &&
    grep -q '"status":[[:space:]]*"complete' "$T/ext2/config.json" &&
    ok "extend refuses a run with a missing checkpoint and leaves it as it was" || bad "extend, missing checkpoint: $(cat "$T/err")"
printf 'X' | dd of="$T/ext2/checkpoint/chain-1.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
cp "$T/nuts-ref/checkpoint/chain-2.bin" "$T/ext2/checkpoint/"
"$B" extend "$T/ext2" --draws 10 --quiet 2>"$T/err"
[ $? -eq 2 ] && grep -q "checkpoint of chain 1: damaged" "$T/err" && cmp -s "$T/ext2/summary.csv" "$T/nuts-ref/summary.csv" &&
    ok "extend refuses a damaged checkpoint before touching the run" || bad "extend, damaged checkpoint: $(cat "$T/err")"

# a checkpoint that cannot be written (a file-size limit: EFBIG) ends the run with exit 1
# naming the file; the last checkpoint stays and resume completes the run
(
    trap '' XFSZ
    ulimit -f 24
    exec "$B" sample --train "$TRAIN" --test "$TEST" --sampler nuts --max-depth 6 --hidden 5 --samples 3000 \
        --chains 2 --seed 3 --quiet --checkpoint-every 0.05 --out "$T/full"
) 2>"$T/err"
code=$?
[ $code -eq 1 ] && grep -q "checkpoint/chain-[12].bin: cannot write" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] &&
    ok "a failed checkpoint write: exit 1 naming the file" || bad "failed write: exit $code, $(cat "$T/err")"
"$B" resume "$T/full" --quiet 2>"$T/err"
code=$?
[ $code -eq 0 ] && same_run "$T/nuts-ref" "$T/full" && ok "after a failed write the run resumes to the same draws" ||
    bad "resume after a failed write: exit $code, $(cat "$T/err")"

# refusals
# an output folder that cannot be made or written: exit 1 naming it, before any sampling
: > "$T/plainfile"
"$B" sample --train "$TRAIN" --sampler nuts --hidden 5 --samples 3000 --out "$T/plainfile/run" 2>"$T/err"
code=$?
[ $code -eq 1 ] && grep -q "plainfile/run: cannot create: Not a directory" "$T/err" && ! grep -q "iterations" "$T/err" &&
    ok "an output folder that cannot be made is refused before sampling" || bad "unwritable --out: exit $code, $(cat "$T/err")"
"$B" resume "$T/nuts-ref" 2>"$T/err"
[ $? -eq 2 ] && grep -q "already complete" "$T/err" && ok "resume refuses a complete run" || bad "resume complete: $(cat "$T/err")"
mkdir -p "$T/empty"
"$B" resume "$T/empty" 2>"$T/err"
[ $? -eq 2 ] && grep -q "not a bnnmc run folder" "$T/err" && ok "resume refuses a folder that is no run" || bad "resume empty: $(cat "$T/err")"
cp "$TRAIN" "$T/train2.txt"
"$B" sample --train "$T/train2.txt" --sampler nuts --max-depth 6 --hidden 5 --samples 400 --chains 2 --quiet \
    --out "$T/chg" 2>/dev/null &
pid=$!
wait_running "$T/chg"
kill -9 $pid
wait $pid 2>/dev/null
echo "0.5 0.5 0.5 0.5 0.5" >> "$T/train2.txt"
"$B" resume "$T/chg" 2>"$T/err"
[ $? -eq 2 ] && grep -q "the data changed since the run started" "$T/err" && ok "resume refuses changed data" ||
    bad "changed data: $(cat "$T/err")"
# the lock: a second process on the same folder is refused, the first's files untouched
if command -v flock >/dev/null 2>&1; then
    flock "$T/nuts-ref/.lock" sh -c ": > '$T/held'; sleep 3" &
    lpid=$!
    n=0
    while [ ! -f "$T/held" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
    "$B" sample --train "$TRAIN" --sampler nuts --samples 50 --chains 1 --force --quiet --out "$T/nuts-ref" 2>"$T/err"
    code=$?
    wait $lpid
    [ $code -eq 2 ] && grep -q "in use by another bnnmc process" "$T/err" && [ -f "$T/nuts-ref/summary.csv" ] &&
        ok "a second process on a locked folder is refused, the run left whole" || bad "lock: exit $code, $(cat "$T/err")"
else
    echo "skip   the lock: no flock(1)"
fi

# --max-time: a run in rounds, killed in a later round and resumed, goes on from the round it
# reached with the time it had left; its first round (1500 warm-up + 1500) is bitwise the
# uninterrupted run's, whatever the timing
MT="--sampler nuts --max-depth 6 --hidden 5 --samples 3000 --round 500 --chains 2 --seed 3 --target-rhat 1.0001 --max-time 4"
# shellcheck disable=SC2086
"$B" sample --train "$TRAIN" --test "$TEST" $MT --quiet --out "$T/mt-ref" 2>/dev/null
# shellcheck disable=SC2086
"$B" sample --train "$TRAIN" --test "$TEST" $MT --quiet --checkpoint-every 0.1 --out "$T/mt" 2>/dev/null &
pid=$!
wait_running "$T/mt"
sleep 2
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
"$B" resume "$T/mt" --quiet 2>"$T/err"
code=$?
first() { grep -v '^#' "$1" | sed -n '2,1501p'; }
[ $code -eq 0 ] && grep -q '"status":[[:space:]]*"complete' "$T/mt/config.json" &&
    grep -q '"converged":[[:space:]]*false' "$T/mt/metrics.json" && grep -q '"rounds":' "$T/mt/metrics.json" &&
    [ "$(first "$T/mt/chain-1.csv")" = "$(first "$T/mt-ref/chain-1.csv")" ] &&
    [ "$(first "$T/mt/chain-2.csv")" = "$(first "$T/mt-ref/chain-2.csv")" ] &&
    ok "--max-time: killed and resumed, the run completes in rounds; its first round bitwise the uninterrupted one's" ||
    bad "--max-time resume: exit $code, $(cat "$T/err")"
"$B" extend "$T/mt" --draws 10 2>"$T/err"
[ $? -eq 2 ] && grep -q "with --max-time is extended by resuming" "$T/err" && ok "extend refuses a --max-time run" ||
    bad "extend --max-time: $(cat "$T/err")"

# --adapt-from: each chain takes its step size and metric from the finished run (chain c mod
# its chain count) and skips warm-up
"$B" sample --train "$TRAIN" --sampler nuts --max-depth 6 --hidden 5 --samples 400 --chains 3 --seed 9 --quiet \
    --adapt-from "$T/nuts-ref" --out "$T/af" 2>"$T/err"
code=$?
src_block() { sed -n '/^# Step size/,/^# [-0-9]/p' "$1"; }
cols_ok=1
for c in 1 2 3; do
    s=$(( (c - 1) % 2 + 1 ))
    [ "$(src_block "$T/af/chain-$c.csv")" = "$(src_block "$T/nuts-ref/chain-$s.csv")" ] || cols_ok=0
    step=$(sed -n 's/^# Step size = //p' "$T/nuts-ref/chain-$s.csv")
    # every draw's stepsize__ (9 significant digits) is that step size
    awk -F, -v want="$(printf '%.9g' "$step")" '!/^#/ && NR > 1 && $1 != "lp__" && $3 != want { bad = 1 } END { exit bad }' \
        "$T/af/chain-$c.csv" || cols_ok=0
done
[ $code -eq 0 ] && [ $cols_ok -eq 1 ] && grep -q "num_warmup = 0" "$T/af/chain-1.csv" && grep -q "engaged = 0" "$T/af/chain-1.csv" &&
    grep -q '"adapt_from"' "$T/af/config.json" &&
    ok "--adapt-from: every chain runs with the finished run's step size and metric, no warm-up" ||
    bad "--adapt-from: exit $code, $(cat "$T/err")"
"$B" sample --train "$TRAIN" --sampler nuts --hidden 5 --samples 400 --burn-in 100 --adapt-from "$T/nuts-ref" --out "$T/af2" 2>"$T/err"
[ $? -eq 2 ] && grep -q -- "--adapt-from skips warm-up" "$T/err" && ok "--adapt-from refuses a burn-in" || bad "--adapt-from with burn-in: $(cat "$T/err")"
"$B" sample --train "$TRAIN" --preset study --hidden 5 --samples 400 --chains 2 --quiet --out "$T/rw-src" 2>/dev/null
"$B" sample --train "$TRAIN" --sampler nuts --hidden 5 --samples 400 --quiet --adapt-from "$T/rw-src" --out "$T/af3" 2>"$T/err"
[ $? -eq 2 ] && grep -q "has no diagonal step size and inverse metric" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] &&
    ok "--adapt-from refuses a run without tuning (the study's langevin)" || bad "--adapt-from untuned: $(cat "$T/err")"
"$B" sample --train "$TRAIN" --sampler nuts --hidden 4 --samples 400 --adapt-from "$T/nuts-ref" --out "$T/af4" 2>"$T/err"
[ $? -eq 2 ] && grep -q "parameters, this one" "$T/err" && ok "--adapt-from refuses another model's run" || bad "--adapt-from other model: $(cat "$T/err")"

# the coordinates the chains moved in (--center, on for this network under nuts): a metric
# tuned in one set is refused in the other; a run folder whose config.json does not say
# (as a run made before --center) is resumed in the model's own coordinates, so a centred
# checkpoint under it is refused, not misread
"$B" sample --train "$TRAIN" --sampler nuts --max-depth 6 --hidden 5 --samples 400 --center no \
    --quiet --adapt-from "$T/nuts-ref" --out "$T/af5" 2>"$T/err"
[ $? -eq 2 ] && grep -q "chains moved in the centred coordinates, this run's would move in the model's own (give --center yes)" "$T/err" &&
    [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q '"center":[[:space:]]*true' "$T/nuts-ref/config.json" &&
    ok "--adapt-from refuses a metric of the other coordinates (--center)" || bad "--adapt-from across --center: $(cat "$T/err")"
"$B" sample --train "$TRAIN" --sampler nuts --max-depth 6 --hidden 5 --samples 400 --axes yes \
    --quiet --adapt-from "$T/nuts-ref" --out "$T/af6" 2>"$T/err"
[ $? -eq 2 ] && grep -q "chains moved off the inputs' axes, this run's would move on them (give --axes no)" "$T/err" &&
    [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q '"axes":[[:space:]]*false' "$T/nuts-ref/config.json" &&
    ok "--adapt-from refuses a metric of the other coordinates (--axes)" || bad "--adapt-from across --axes: $(cat "$T/err")"
interrupt "$T/old" --train "$TRAIN" --test "$TEST" --sampler nuts --max-depth 6 --hidden 5 \
    --samples 3000 --chains 2 --seed 3 --axes yes --quiet
sed -i '/"center":/d; /"axes":/d' "$T/old/config.json"
"$B" resume "$T/old" --quiet 2>"$T/err"
code=$?
[ $code -ne 0 ] && grep -q "made by another run (.*the centred level and the inputs' axes)" "$T/err" &&
    ok "resume of a run that does not record --center and --axes: the model's coordinates, a checkpoint in theirs refused" ||
    bad "resume without sampler.center and sampler.axes: exit $code, $(cat "$T/err")"

# the kernel's settings as the run recorded them, not today's defaults: a run made at tree
# depth 4 whose recorded command gives no depth (as a run made when the default was 4 would
# be: here the argument is cut from the record) resumes at 4, where today's default of 10
# would not fit its checkpoints; a damaged recorded value is refused (--axes no: on the
# inputs' axes this network's trees turn back by depth 2, and the test needs them cut at 4)
interrupt "$T/rec" --train "$TRAIN" --test "$TEST" --sampler nuts --hidden 5 --samples 20000 \
    --max-depth=4 --axes no --chains 2 --seed 4 --quiet
uncut "$T/rec" --max-depth=4
cp -r "$T/rec" "$T/rec-bad"
sed -i 's/"max_depth":[[:space:]]*4,/"max_depth":\t40,/' "$T/rec-bad/config.json"
"$B" resume "$T/rec" --quiet 2>"$T/err"
code=$?
# the deepest tree of the last 500 draws (all after the resume)
deepest=$(awk -F, '/^#/ { next } !c { for (i = 1; i <= NF; i++) if ($i == "treedepth__") c = i; next }
    { print $c }' "$T/rec/chain-1.csv" | tail -500 | sort -n | tail -1)
[ $code -eq 0 ] && grep -q '^#[[:space:]]*max_depth = 4$' "$T/rec/chain-1.csv" &&
    grep -q '"max_depth":[[:space:]]*4,' "$T/rec/config.json" && [ "${deepest:-0}" -eq 4 ] &&
    [ $cut = yes ] &&
    ok "resume keeps the recorded kernel settings (max_depth 4, not the default 10)" ||
    bad "resume with a recorded max_depth: exit $code, cut $cut, deepest tree $deepest, $(grep max_depth "$T/rec/chain-1.csv"), $(cat "$T/err")"
"$B" resume "$T/rec-bad" --quiet 2>"$T/err"
code=$?
[ $code -eq 2 ] && grep -q "config.json: sampler.max_depth is outside the setting's range" "$T/err" &&
    [ "$(wc -l < "$T/err")" -eq 1 ] && ok "resume refuses a recorded setting out of range" ||
    bad "resume with max_depth 40: exit $code, $(cat "$T/err")"

# the same for a kernel setting (pt's base): recorded rw, cut from the command, where
# today's default base is nuts
interrupt "$T/recb" --train "$TRAIN" --test "$TEST" --sampler pt --base=rw --replicas 3 \
    --hidden 3 --samples 60000 --chains 2 --seed 4 --quiet
uncut "$T/recb" --base=rw
"$B" resume "$T/recb" --quiet 2>"$T/err"
code=$?
[ $code -eq 0 ] && [ $cut = yes ] && grep -q '^#[[:space:]]*base = rw$' "$T/recb/chain-1.csv" &&
    grep -q '"base":[[:space:]]*"rw"' "$T/recb/config.json" &&
    ok "resume keeps the recorded base of pt (rw, not the default nuts)" ||
    bad "resume with a recorded base: exit $code, cut $cut, $(grep 'base =' "$T/recb/chain-1.csv"), $(cat "$T/err")"

echo "test_resume: $pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
