#!/usr/bin/env bash
# Run one shell command as root inside a virtme-ng guest booted from Debian's
# linux-image-amd64 kernel (TCG, no KVM), with the host root shared read-only.
#
#   scripts/vm-run.sh [--rwdir DIR]... [--kernel VER] [--timeout SECS] [--] COMMAND...
#   scripts/vm-run.sh --print-kernel     # the kernel version it would boot
#   scripts/vm-run.sh --print-rt-kernel  # the newest PREEMPT_RT one (boot it with --kernel)
#
# The guest command's stdout goes to our stdout, its stderr to our stderr, and
# its exit status becomes ours (vng propagates it). Kernel console output is NOT
# mixed in; set RSTAP_VM_CONSOLE=1 to get it on stderr (vng --verbose).
# The guest boots with the kernel's memory and lockup checking on (KERNEL_DEBUG_ARGS
# below: slub_debug, page poisoning, short soft-lockup and hung-task thresholds) and,
# after COMMAND, its kernel log is checked for KLOG_PROBLEMS: matching lines go to
# stderr and a COMMAND that succeeded makes us exit 125.
# Special exit statuses: 255 = guest died without reporting a status (kernel
# panic / oops with panic_on_oops); 124 = --timeout expired; 125 = kernel log problem.
#
# Environment: RSTAP_VENV (default /opt/rstap/venv), RSTAP_VM_CPUS (2),
# RSTAP_VM_MEMORY (2G), RSTAP_VM_TIMEOUT (600), RSTAP_VM_CONSOLE (0).
set -euo pipefail

# Copies of rstap::vm::KERNEL_DEBUG_ARGS and rstap::vm::KLOG_PROBLEMS (src/vm.rs says
# why each is there); tests/vm_scripts.rs checks they stay the same.
KERNEL_DEBUG_ARGS=(slub_debug=FZPU page_poison=1 watchdog_thresh=5 softlockup_panic=0 sysctl.kernel.hung_task_timeout_secs=30)
KLOG_PROBLEMS='\bBUG\b|\bWARNING\b|Oops|general protection|Call Trace|Poison overwritten|Redzone|list_add corruption|list_del corruption|soft lockup|hard LOCKUP|rcu.*stall|blocked for more than|scheduling while atomic'

venv=${RSTAP_VENV:-/opt/rstap/venv}
cpus=${RSTAP_VM_CPUS:-2}
memory=${RSTAP_VM_MEMORY:-2G}
tmo=${RSTAP_VM_TIMEOUT:-600}
kver=${RSTAP_VM_KERNEL:-}
rwdirs=()
print_kernel=0

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while (($#)); do
    case $1 in
        --rwdir) rwdirs+=(--rwdir "$2"); shift 2 ;;
        --kernel) kver=$2; shift 2 ;;
        --timeout) tmo=$2; shift 2 ;;
        --print-kernel) print_kernel=1; shift ;;
        --print-rt-kernel) print_kernel=rt; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[[ $print_kernel != 0 || $# -gt 0 ]] || usage

# Whether VER is a PREEMPT_RT kernel: its .config says so, or without one its name
# (Debian's linux-image-rt-amd64 is 6.1.0-NN-rt-amd64). Same rule as rstapc's.
is_rt() {
    local config=/lib/modules/$1/build/.config
    if [[ -f $config ]]; then grep -qx 'CONFIG_PREEMPT_RT=y' "$config"
    else [[ -$1- == *-rt-* ]]; fi
}

# Newest Debian kernel that has both an image and a build dir (the one modules
# are compiled against must be the one booted). A PREEMPT_RT flavor installed
# beside the plain one is not the default, as in rstapc: `newest_kernel rt` names it.
newest_kernel() {
    local f v plain= rt=
    for f in /boot/vmlinuz-*; do
        [[ -e $f ]] || continue
        v=${f#/boot/vmlinuz-}
        [[ -d /lib/modules/$v/build && -d /lib/modules/$v/kernel ]] || continue
        if is_rt "$v"; then rt+="$v"$'\n'; else plain+="$v"$'\n'; fi
    done
    if [[ ${1:-} == rt ]]; then printf '%s' "$rt" | sort -V | tail -n1
    elif [[ -n $plain ]]; then printf '%s' "$plain" | sort -V | tail -n1
    else printf '%s' "$rt" | sort -V | tail -n1; fi
}
if [[ $print_kernel == rt ]]; then
    kver=$(newest_kernel rt)
    [[ -n $kver ]] || { echo "vm-run: no PREEMPT_RT kernel with /boot/vmlinuz-VER and /lib/modules/VER/{build,kernel} (linux-image-rt-amd64, linux-headers-rt-amd64)" >&2; exit 2; }
    echo "$kver"; exit 0
fi
if [[ -z $kver ]]; then
    kver=$(newest_kernel)
    [[ -n $kver ]] || { echo "vm-run: no /boot/vmlinuz-VER with /lib/modules/VER/{build,kernel}; run scripts/setup.sh" >&2; exit 2; }
fi
[[ $print_kernel == 1 ]] && { echo "$kver"; exit 0; }

[[ -x $venv/bin/vng ]] || { echo "vm-run: $venv/bin/vng missing; run scripts/setup.sh" >&2; exit 2; }
export PATH="$venv/bin:$PATH"   # vng execs virtme-run by name

if (($# == 1)); then cmd=$1; else cmd=$(printf '%q ' "$@"); fi
cmd="( $cmd
); rc=\$?; if dmesg | grep -E '$KLOG_PROBLEMS' >&2; then echo 'vm-run: the guest kernel logged a problem (above)' >&2; [ \$rc -eq 0 ] && rc=125; fi; exit \$rc"
appends=()
for a in "${KERNEL_DEBUG_ARGS[@]}"; do appends+=(--append "$a"); done

extra=()
[[ ${RSTAP_VM_CONSOLE:-0} == 1 ]] && extra+=(--verbose)

# stdin must be an open fd: with stdin closed virtme-run crashes (sys.stdin is None).
# qemu opens the guest's stdout/stderr as /proc/self/fd/{1,2} with O_TRUNC: if
# our stdout/stderr is a regular file it would be truncated and overwritten from
# offset 0 (earlier content lost, NUL bytes). So both always go through pipes.
# timeout kills the whole process group (vng, virtme-run, qemu) on expiry.
set +e   # the guest status is collected below, not by errexit
rcfile=$(mktemp)
trap 'rm -f "$rcfile"' EXIT
{ { timeout -k 10 "$tmo" \
      vng --run "/boot/vmlinuz-$kver" --disable-kvm --disable-microvm \
          --cpus "$cpus" --memory "$memory" "${appends[@]}" "${rwdirs[@]}" "${extra[@]}" \
          --exec "$cmd" </dev/null
    echo $? >"$rcfile"
  } 2>&1 1>&4 4>&- | cat >&2
} 4>&1 | cat
rc=$(cat "$rcfile")
exit "${rc:-255}"
