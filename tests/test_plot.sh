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
    "$B" sample --preset study --dataset $run --samples 600 --chains 3 --out "$R" --quiet 2>/dev/null || { bad "sample $run"; continue; }
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
    # and are the draws of chain-1.csv's plotted column: the worst R-hat but tau2 (drawn last)
    name=$(awk -F, 'NR > 2 && $1 != "tau2" && $10 != "NA" { if (n == "" || $10 > m) { m = $10; n = $1 } } END { print n }' "$R/summary.csv")
    col=$(grep -v '^#' "$R/chain-1.csv" | head -1 | tr ',' '\n' | grep -nx "$name" | cut -d: -f1)
    [ -n "$name" ] && [ -n "$col" ] && grep -v '^#' "$R/chain-1.csv" | tail -n +2 | cut -d, -f"$col" >"$T/a" || : >"$T/a"
    grep -v '^#' "$R/plots/data/trace-1.dat" | awk '{ print $2 }' >"$T/b"
    paste "$T/a" "$T/b" | awk -F'\t' '{ n++; d = $1 - $2; if (d < 0) d = -d; if ($1 == "" || $2 == "" || d > 1e-6 * (($1 < 0 ? -$1 : $1) + 1e-300)) bad++ }
        END { exit !(n == 300 && bad == 0) }' \
        && ok "$run: the first trace panel plots $name, the worst R-hat, from chain-1.csv" || bad "$run: trace values differ from chain-1.csv ('$name')"
    # the R-hat overview covers every parameter
    params=$(($(wc -l <"$R/summary.csv") - 2))
    [ "$params" -gt 0 ] && [ "$(grep -vc '^#' "$R/plots/data/rhat-params.dat")" -eq "$params" ] && ok "$run: R-hat overview covers every parameter" || bad "$run: rhat-params.dat"
done
# regression: the band data are the test rows' mean and interval from pred-test.csv
R="$T/mackey-glass"
grep -v '^#' "$R/plots/data/pred-test.dat" | awk '{ print $3 }' >"$T/a"
tail -n +2 "$R/pred-test.csv" | cut -d, -f3 >"$T/b"
paste "$T/a" "$T/b" | awk -F'\t' '{ n++; d = $1 - $2; if (d < 0) d = -d; if ($1 == "" || $2 == "" || d > 1e-6) bad++ } END { exit !(n == 196 && bad == 0) }' \
    && ok "predictions: the band is pred-test.csv's 196 rows" || bad "predictions data"
# classification: per-class accuracy counts add up to the test rows
R="$T/blobs3"
[ "$(grep -v '^#' "$R/plots/data/class-accuracy-test.dat" | awk '{ s += $3 } END { print s }')" -eq 45 ] && ok "classification: per-class rows add up to 45" || bad "class accuracy data"
"$B" plot "$R" --params nope 2>"$T/err"; [ $? -eq 2 ] && grep -q "no parameter 'nope'" "$T/err" && ok "--params refuses an unknown name" || bad "--params check"
"$B" plot "$R" --params W1.1.1,b2.3 2>/dev/null && [ "$(grep -c '^plot ' "$R/plots/trace.gp")" -eq 2 ] && grep -q "ylabel .W1.1.1" "$R/plots/trace.gp" \
    && grep -q "ylabel .b2.3" "$R/plots/trace.gp" && ok "--params W1.1.1,b2.3: two trace panels, those two" || bad "--params"
# a write that fails part-way (here the file size limit) leaves no half file under a
# plotted file's name: every file of plots/ is written atomically
rm -rf "$T/lim"
cp -r "$T/mackey-glass" "$T/lim"
rm -rf "$T/lim/plots"
(trap '' XFSZ; ulimit -f 4; exec "$B" plot "$T/lim") 2>"$T/err"
code=$?
[ $code -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "data/trace-1.dat: cannot write" "$T/err" &&
    [ -d "$T/lim/plots/data" ] && [ -z "$(ls "$T/lim/plots/data")" ] \
    && ok "plot leaves no half-written file" || bad "plot under a size limit: exit $code, files: $(ls "$T/lim/plots/data"), $(cat "$T/err")"
PATH=/nonexistent "$B" plot "$R" 2>"$T/err"; [ $? -eq 1 ] && grep -q "gnuplot is not installed" "$T/err" && ok "says what is missing without gnuplot" || bad "missing gnuplot message: $(cat "$T/err")"

# 256 chains (sample takes up to 1024): a trace column and a histogram per chain; the scripts
# grow as needed (a fixed 64 KiB buffer overflowed here)
R="$T/c256"
"$B" sample --preset study --dataset mackey-glass --model linear --samples 16 --chains 256 --out "$R" --quiet 2>"$T/err" || bad "sample 256 chains: $(cat "$T/err")"
"$B" plot "$R" 2>"$T/err"
code=$?
figs=0
for fig in trace posterior predictions rhat; do
    [ -s "$R/plots/$fig.png" ] && png_sig "$R/plots/$fig.png" && figs=$((figs + 1))
done
[ $code -eq 0 ] && [ $figs -eq 4 ] && ok "plot of 256 chains draws the 4 figures" || bad "plot of 256 chains: exit $code, $figs figures, $(cat "$T/err")"
n=$(grep -vc '^#' "$R/plots/data/trace-1.dat")
cols=$(grep -v '^#' "$R/plots/data/trace-1.dat" | awk '{ print NF }' | sort -u)
hcols=$(grep -v '^#' "$R/plots/data/hist-1.dat" | awk '{ print NF }' | sort -u)
[ "$n" -eq 8 ] && [ "$cols" = 257 ] && [ "$hcols" = 257 ] && ok "256 chains: trace and histogram data have a column per chain" \
    || bad "256 chains: trace data $n x $cols, histogram columns $hcols"
grep -q "'trace-1.dat' using 1:257 " "$R/plots/trace.gp" && grep -q "'hist-1.dat' using 1:257 " "$R/plots/posterior.gp" \
    && ok "256 chains: the scripts draw the 256th chain" || bad "256 chains: the scripts lack chain 256"

# 12 classes: the accuracy figure has every class, 10 and 11 too
awk 'BEGIN { for (i = 0; i < 120; i++) { k = i % 12; printf "%.4f %.4f %d\n", k + 0.3 * sin(7 * i), 0.5 * cos(3 * i), k } }' >"$T/c12-train.txt"
awk 'BEGIN { for (i = 0; i < 60; i++) { k = i % 12; printf "%.4f %.4f %d\n", k + 0.3 * cos(5 * i), 0.5 * sin(2 * i), k } }' >"$T/c12-test.txt"
R="$T/c12"
"$B" sample --preset study --train "$T/c12-train.txt" --test "$T/c12-test.txt" --task classification --model linear --samples 40 --chains 2 --out "$R" --quiet 2>"$T/err" \
    || bad "sample 12 classes: $(cat "$T/err")"
head -1 "$R/pred-test.csv" | grep -q ',p10,p11,predicted,' && ok "12 classes: pred-test.csv has p0..p11" || bad "12 classes: pred-test.csv header"
"$B" plot "$R" 2>"$T/err"
code=$?
[ $code -eq 0 ] && [ -s "$R/plots/predictions.png" ] && ok "plot of a 12-class run" || bad "plot of 12 classes: exit $code, $(cat "$T/err")"
for which in train test; do
    f="$R/plots/data/class-accuracy-$which.dat"
    classes=$(grep -v '^#' "$f" | awk '{ printf "%s ", $1 }')
    rows=$(grep -v '^#' "$f" | awk '{ s += $3 } END { print s + 0 }')
    want=$([ $which = train ] && echo 120 || echo 60)
    [ "$classes" = "0 1 2 3 4 5 6 7 8 9 10 11 " ] && [ "$rows" -eq "$want" ] \
        && ok "12 classes: the $which accuracy data have classes 0..11 and all $want rows" || bad "12 classes, $which: classes '$classes', $rows rows"
    grep -q "plot 'class-accuracy-$which.dat' using 1:2:xtic(1) with boxes" "$R/plots/predictions.gp" \
        && ok "12 classes: the figure draws class-accuracy-$which.dat" || bad "12 classes: predictions.gp lacks class-accuracy-$which.dat"
done

# --save-warmup: the trace plots show the warm-up rows first, shaded
W="$T/warm"
"$B" sample --dataset mackey-glass --model linear --samples 300 --thin 2 --chains 2 --save-warmup --quiet --out "$W" 2>"$T/err" &&
    "$B" plot "$W" >/dev/null 2>"$T/err"
code=$?
rows=$(grep -vc '^#' "$W/plots/data/trace-1.dat")
[ $code -eq 0 ] && [ "$rows" -eq 150 ] && grep -q "75 warm-up rows, shaded, and 75 draws" "$W/plots/trace.gp" &&
    grep -q "set object 1 rect from 0.5, graph 0 to 75.5" "$W/plots/trace.gp" &&
    ok "--save-warmup: trace data hold 75 warm-up rows and 75 draws, the warm-up shaded" ||
    bad "--save-warmup trace: exit $code, $rows rows, $(cat "$T/err")"

echo "test_plot: $pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
