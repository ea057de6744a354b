#!/usr/bin/env bash
# The errno scenario, end to end: build rstap and a workload that makes exactly 1000
# failing openat (ENOENT) and 777 failing close (EBADF) calls, then run
# examples/errno.stp (or examples/old_errno.stp with `old_errno`) in a VM booted from the
# target kernel, with the workload as the traced command (-c). Prints the table.
#
#   scripts/errno-demo.sh [-r KVER] [errno|old_errno] [N_OPENAT N_CLOSE]
#
# -r KVER: build for and boot that installed kernel (e.g. 6.1.0-57-amd64, or the RT one
# `scripts/vm-run.sh --print-rt-kernel` names); default: rstapc's --vm default.
set -euo pipefail
cd "$(dirname "$0")/.."

release=()
if [[ ${1:-} == -r ]]; then
    [[ -n ${2:-} ]] || { echo "errno-demo: -r needs a kernel release" >&2; exit 2; }
    release=(-r "$2")
    shift 2
fi
script=${1:-errno}
n_open=${2:-1000}
n_close=${3:-777}
export PATH="${RSTAP_VENV:-/opt/rstap/venv}/bin:$PATH"   # vng runs virtme-run by name

cargo build --release --quiet
mkdir -p target/progs
cc -O2 -Wall -pthread -o target/progs/workload tests/progs/workload.c

echo "rstapc -v --vm ${release[*]} -m $script -c 'workload $n_open $n_close' examples/$script.stp" >&2
exec ./target/release/rstapc -v --vm "${release[@]}" -m "$script" -c "$PWD/target/progs/workload $n_open $n_close" "examples/$script.stp"
