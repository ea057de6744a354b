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

# Which kernel: the same rule as rstapc --vm (src/kernel/select.rs; tests/kernel_choice.rs
# compares the two): the running kernel when it has headers and an image; else the newest
# kernel with both, where "newest" orders the version part numerically and prefers the
# plain flavor (6.1.0-57-amd64) to another of the same version (6.1.0-57-cloud-amd64);
# a PREEMPT_RT kernel only when nothing else is installed (--print-rt-kernel names it).
# RSTAP_MODULES_DIR, RSTAP_BOOT_DIR and RSTAP_RUNNING_KERNEL replace /lib/modules, /boot and
# `uname -r` (the tests use fake trees).
modules=${RSTAP_MODULES_DIR:-/lib/modules}
boot=${RSTAP_BOOT_DIR:-/boot}
running=${RSTAP_RUNNING_KERNEL:-$(uname -r)}

# Whether VER is a PREEMPT_RT kernel: its .config says so, or without one its name
# (Debian's linux-image-rt-amd64 is 6.1.0-NN-rt-amd64).
is_rt() {
    local config=$modules/$1/build/.config
    if [[ -f $config ]]; then grep -qx 'CONFIG_PREEMPT_RT=y' "$config"
    else [[ -$1- == *-rt-* ]]; fi
}

# Headers (a build dir with a Makefile), an image, and the image's modules (virtme-ng loads
# the guest's 9p/virtio/overlay modules from /lib/modules/VER/kernel).
bootable() {
    [[ -f $modules/$1/build/Makefile && -f $boot/vmlinuz-$1 && -d $modules/$1/kernel ]]
}

# "VERSION<tab>FLAVOR-WORDS<tab>RELEASE": 6.1.0-57-cloud-amd64 -> 6.1.0-57, 2.
release_key() {
    local w v= n=0 i=0 in_flavor=0
    local IFS=-
    for w in $1; do
        ((i > 0)) && [[ $w != [0-9]* ]] && in_flavor=1
        if ((in_flavor)); then n=$((n + 1)); else v+=${v:+-}$w; fi
        i=$((i + 1))
    done
    printf '%s\t%s\t%s\n' "$v" "$n" "$1"
}

# The newest bootable kernel, plain (or with `rt`: PREEMPT_RT).
newest_kernel() {
    local f v keys=
    for f in "$boot"/vmlinuz-*; do
        [[ -e $f ]] || continue
        v=${f#"$boot"/vmlinuz-}
        bootable "$v" || continue
        if [[ ${1:-} == rt ]]; then is_rt "$v" || continue
        else ! is_rt "$v" || continue; fi
        keys+=$(release_key "$v")$'\n'
    done
    printf '%s' "$keys" | LC_ALL=C sort -t $'\t' -k1,1V -k2,2nr -k3,3 | tail -n1 | cut -f3
}
default_kernel() {
    if [[ -n $running ]] && bootable "$running"; then echo "$running"; return; fi
    local v
    v=$(newest_kernel)
    [[ -n $v ]] || v=$(newest_kernel rt)
    echo "$v"
}
if [[ $print_kernel == rt ]]; then
    kver=$(newest_kernel rt)
    [[ -n $kver ]] || { echo "vm-run: no PREEMPT_RT kernel with $boot/vmlinuz-VER and $modules/VER/{build,kernel} (install linux-image-rt-amd64 and linux-headers-rt-amd64)" >&2; exit 2; }
    echo "$kver"; exit 0
fi
if [[ -z $kver ]]; then
    kver=$(default_kernel)
    [[ -n $kver ]] || { echo "vm-run: no $boot/vmlinuz-VER with $modules/VER/{build,kernel} (install linux-image-amd64 and linux-headers-amd64, or run scripts/setup.sh)" >&2; exit 2; }
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
