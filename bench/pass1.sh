#!/bin/sh
# Pass-1 time over SystemTap's tapset library (package systemtap-common), in one process
# through the library API: release build, pinned to one core when taskset is available.
# Prints the median total of ROUNDS (default 9) runs. Target: under 300 ms.
#   bench/pass1.sh                 # /usr/share/systemtap/tapset
#   TAPSET_DIR=/other/dir ROUNDS=20 bench/pass1.sh
set -eu
cd "$(dirname "$0")/.."
cargo test --release --test pass1_bench --no-run >/dev/null 2>&1 ||
    cargo test --release --test pass1_bench --no-run
pin=""
if command -v taskset >/dev/null 2>&1; then pin="taskset -c 0"; fi
$pin cargo test --release --test pass1_bench -- --ignored --nocapture --test-threads=1 2>&1 |
    grep -oE 'pass 1 over.*|panicked.*|FAILED.*' || true
