#!/usr/bin/env bash
# Smoke test of the VM path: build a hello-world module on the host against
# /lib/modules/VER/build, boot VER's Debian kernel with scripts/vm-run.sh, and
# inside: insmod, check /proc/modules, rmmod, print the module's dmesg lines,
# fail on any of KLOG_PROBLEMS in the guest's kernel log. Also checks that a host
# dir passed with --rwdir gets the guest's writes back.
#
#   scripts/vm-smoke.sh [--kernel VER]      exit 0 = all good
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# A copy of rstap::vm::KLOG_PROBLEMS (src/vm.rs); tests/vm_scripts.rs checks it stays the same.
KLOG_PROBLEMS='\bBUG\b|\bWARNING\b|Oops|general protection|Call Trace|Poison overwritten|Redzone|list_add corruption|list_del corruption|soft lockup|hard LOCKUP|rcu.*stall|blocked for more than|scheduling while atomic'
kver=
[[ ${1:-} == --kernel ]] && kver=$2
[[ -n $kver ]] || kver=$("$here/vm-run.sh" --print-kernel)
kbuild=/lib/modules/$kver/build
[[ -d $kbuild ]] || { echo "vm-smoke: no $kbuild" >&2; exit 2; }

# Host /tmp is visible (read-only lower layer of an overlay) in the guest.
work=$(mktemp -d /tmp/rstap-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/mod" "$work/out"

cat >"$work/mod/rstap_smoke.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/init.h>
#include <linux/printk.h>

static int __init rstap_smoke_init(void)
{
	pr_info("rstap_smoke: hello from %s\n", THIS_MODULE->name);
	return 0;
}

static void __exit rstap_smoke_exit(void)
{
	pr_info("rstap_smoke: goodbye\n");
}

module_init(rstap_smoke_init);
module_exit(rstap_smoke_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("rstap VM smoke test module");
EOF
echo 'obj-m := rstap_smoke.o' >"$work/mod/Kbuild"

echo "== building rstap_smoke.ko against $kbuild"
make -s -C "$kbuild" M="$work/mod" modules >"$work/build.log" 2>&1 || {
    cat "$work/build.log" >&2; echo "vm-smoke: module build failed" >&2; exit 1; }
ko=$work/mod/rstap_smoke.ko
modinfo -F vermagic "$ko"

guest=$(cat <<EOF
set -u
fail=0
uname -r
insmod $ko || { echo "FAIL: insmod"; exit 1; }
if line=\$(grep '^rstap_smoke ' /proc/modules); then echo "loaded: \$line"; else echo "FAIL: not in /proc/modules"; fail=1; fi
rmmod rstap_smoke || { echo "FAIL: rmmod"; fail=1; }
grep -q '^rstap_smoke ' /proc/modules && { echo "FAIL: still loaded after rmmod"; fail=1; }
dmesg | grep rstap_smoke
dmesg > $work/out/dmesg.txt
if dmesg | grep -E '$KLOG_PROBLEMS'; then echo "FAIL: the kernel logged a problem (above)"; fail=1; fi
exit \$fail
EOF
)

echo "== booting $kver"
start=$(date +%s)
set +e
"$here/vm-run.sh" --kernel "$kver" --rwdir "$work/out" "$guest" | tee "$work/guest.out"
rc=${PIPESTATUS[0]}
set -e
echo "== guest exit status $rc ($(( $(date +%s) - start )) s)"

grep -q 'rstap_smoke: hello from rstap_smoke' "$work/guest.out" || { echo "FAIL: no hello line" >&2; rc=1; }
grep -q 'rstap_smoke: goodbye' "$work/guest.out" || { echo "FAIL: no goodbye line" >&2; rc=1; }
if [[ -s $work/out/dmesg.txt ]]; then
    echo "== --rwdir ok: guest dmesg came back to the host ($(wc -l <"$work/out/dmesg.txt") lines)"
else
    echo "FAIL: --rwdir file not visible on host" >&2; rc=1
fi
((rc == 0)) && echo "vm-smoke: PASS" || echo "vm-smoke: FAIL" >&2
exit "$rc"
