#!/bin/sh
# run.sh — bnnmc's NUTS against Stan's on the same models (see compare.R). Needs R with
# rstan and posterior (sh scripts/setup.sh --r) and Debian's libboost-dev. Takes long: Stan's
# NUTS saturates its tree depth on the network, tens of minutes.
# usage: bench/vs_stan/run.sh [DATA_DIR] [CASES]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
exec Rscript "$here/compare.R" "${1:-$root/../shared/data}" "$root/build/bnnmc" "${2:-nn-sunspot,nn-iris,linear-sunspot}"
