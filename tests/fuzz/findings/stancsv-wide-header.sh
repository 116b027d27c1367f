#!/bin/sh
# Writes FILE (default /tmp/wide-header.csv, 0.6 MB): a header of 300001 columns and one
# short row. stan_csv_read reserves 1024 rows of the header's width before reading the first
# row: 2.4 GB for a 0.6 MB file (libFuzzer: out-of-memory (malloc(2457608192))).
f=${1:-/tmp/wide-header.csv}
awk 'BEGIN { printf "lp__"; for (i = 0; i < 300000; i++) printf ",a"; printf "\n0\n" }' >"$f"
echo "$f"
