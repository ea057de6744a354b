#!/usr/bin/env bash
# The errno scenario, end to end: build rstap and a workload that makes exactly 1000
# failing openat (ENOENT) and 777 failing close (EBADF) calls, then run
# examples/errno.stp (or examples/old_errno.stp with `old_errno`) in a VM booted from the
# target kernel, with the workload as the traced command (-c). Prints the table.
#
#   scripts/errno-demo.sh [errno|old_errno] [N_OPENAT N_CLOSE]
set -euo pipefail
cd "$(dirname "$0")/.."

script=${1:-errno}
n_open=${2:-1000}
n_close=${3:-777}
export PATH="${RSTAP_VENV:-/opt/rstap/venv}/bin:$PATH"   # vng runs virtme-run by name

cargo build --release --quiet
mkdir -p target/progs
cc -O2 -Wall -pthread -o target/progs/workload tests/progs/workload.c

echo "rstapc -v --vm -m $script -c 'workload $n_open $n_close' examples/$script.stp" >&2
exec ./target/release/rstapc -v --vm -m "$script" -c "$PWD/target/progs/workload $n_open $n_close" "examples/$script.stp"
