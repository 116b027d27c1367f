#!/bin/sh
# test_plot.sh — `bnnmc plot`: every figure is produced as a valid PNG and SVG of the stated
# size, and the plotted data match the run. Skipped (77) when gnuplot is missing.
# usage: test_plot.sh BNNMC
B=$1
command -v gnuplot >/dev/null 2>&1 || { echo "skip: gnuplot not installed"; exit 77; }
T=$(mktemp -d /tmp/bnnmc-plot-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

# PNG: 8-byte signature, then the IHDR chunk with width and height (big-endian)
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%d %d", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'; }
png_sig() { [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = "89504e470d0a1a0a" ]; }

for run in "mackey-glass" "blobs3"; do
    R="$T/$run"
    "$B" sample --dataset $run --samples 600 --chains 3 --out "$R" --quiet 2>/dev/null || { bad "sample $run"; continue; }
    "$B" plot "$R" 2>"$T/err" || { bad "plot $run: $(cat "$T/err")"; continue; }
    for fig in trace posterior predictions rhat; do
        f="$R/plots/$fig.png"
        if [ -s "$f" ] && png_sig "$f" && [ "$(png_size "$f")" = "1200 800" ]; then ok "$run: $fig.png is a 1200x800 PNG"; else bad "$run: $fig.png"; fi
        s="$R/plots/$fig.svg"
        if [ -s "$s" ] && head -c 600 "$s" | grep -q '<svg' && grep -q 'width="1200"' "$s" && grep -q 'height="800"' "$s" && tail -c 20 "$s" | grep -q '</svg>'; then
            ok "$run: $fig.svg is a complete 1200x800 SVG"
        else bad "$run: $fig.svg"; fi
    done
    # the trace data hold every kept draw of every chain (300 draws, 3 chains + the index)
    n=$(grep -vc '^#' "$R/plots/data/trace-1.dat")
    cols=$(grep -v '^#' "$R/plots/data/trace-1.dat" | head -1 | wc -w)
    [ "$n" -eq 300 ] && [ "$cols" -eq 4 ] && ok "$run: trace data = 300 draws x 3 chains" || bad "$run: trace data $n x $cols"
    # and are the draws of chain-1.csv's plotted column
    name=$(grep '^# draw' "$R/plots/data/trace-1.dat" >/dev/null && awk -F, 'NR > 2 { if ($10 > m) { m = $10; n = $1 } } END { print n }' "$R/summary.csv")
    col=$(grep -v '^#' "$R/chain-1.csv" | head -1 | tr ',' '\n' | grep -nx "$name" | cut -d: -f1)
    grep -v '^#' "$R/chain-1.csv" | tail -n +2 | cut -d, -f"$col" | head -300 >"$T/a"
    grep -v '^#' "$R/plots/data/trace-1.dat" | awk '{ print $2 }' >"$T/b"
    paste "$T/a" "$T/b" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6 * (($1 < 0 ? -$1 : $1) + 1e-300)) bad++ } END { exit bad > 0 }' \
        && ok "$run: the first trace panel plots $name, the worst R-hat, from chain-1.csv" || bad "$run: trace values differ from chain-1.csv ($name)"
    # the R-hat overview covers every parameter
    [ "$(grep -vc '^#' "$R/plots/data/rhat-params.dat")" -eq "$(($(wc -l <"$R/summary.csv") - 2))" ] && ok "$run: R-hat overview covers every parameter" || bad "$run: rhat-params.dat"
done
# regression: the band data are the test rows' mean and interval from pred-test.csv
R="$T/mackey-glass"
[ "$(grep -vc '^#' "$R/plots/data/pred-test.dat")" -eq 196 ] && \
    grep -v '^#' "$R/plots/data/pred-test.dat" | awk '{ print $3 }' | head -3 >"$T/a" && \
    tail -n +2 "$R/pred-test.csv" | cut -d, -f3 | head -3 >"$T/b" && \
    paste "$T/a" "$T/b" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6) bad++ } END { exit bad > 0 }' \
    && ok "predictions: the band is pred-test.csv's 196 rows" || bad "predictions data"
# classification: per-class accuracy counts add up to the test rows
R="$T/blobs3"
[ "$(grep -v '^#' "$R/plots/data/class-accuracy-test.dat" | awk '{ s += $3 } END { print s }')" -eq 45 ] && ok "classification: per-class rows add up to 45" || bad "class accuracy data"
"$B" plot "$R" --params nope 2>"$T/err"; [ $? -eq 2 ] && grep -q "no parameter 'nope'" "$T/err" && ok "--params refuses an unknown name" || bad "--params check"
"$B" plot "$R" --params W1.1.1,b2.3 2>/dev/null && [ "$(ls "$R"/plots/data/trace-*.dat | wc -l)" -ge 2 ] && ok "--params W1.1.1,b2.3" || bad "--params"
PATH=/nonexistent "$B" plot "$R" 2>"$T/err"; [ $? -eq 1 ] && grep -q "gnuplot is not installed" "$T/err" && ok "says what is missing without gnuplot" || bad "missing gnuplot message: $(cat "$T/err")"
echo "test_plot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
