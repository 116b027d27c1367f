#!/bin/sh
# setup.sh — installs the Debian packages bnnmc builds and tests with, when missing.
# Usage: sh scripts/setup.sh [--r] [--fuzz]   (--r also installs R with posterior, coda, loo and
# rstan for the cross-checks against the reference implementations; CI uses it. --fuzz
# also installs clang and its sanitizer/libFuzzer runtime, for `make fuzz`)
set -eu
pkgs="gcc make cmake pkg-config libgsl-dev libopenblas-dev libcjson-dev nettle-dev libfftw3-dev gnuplot-nox jq bc libopenmpi-dev openmpi-bin procps"
for a in "$@"; do
    case $a in
    --r) pkgs="$pkgs r-base-core r-cran-posterior r-cran-coda r-cran-rstan r-cran-loo r-cran-jsonlite" ;;
    --fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
    *) echo "setup: unknown option '$a' (use --r, --fuzz)" >&2; exit 2 ;;
    esac
done
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "setup: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: not root; run: sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
