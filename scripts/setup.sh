#!/usr/bin/env bash
# Install what rstap needs on a Debian bookworm machine. Run as root. Idempotent:
# a second run only checks (no apt-get update, no pip) and takes about a second.
#
#   scripts/setup.sh          RSTAP_SETUP_FORCE=1 to re-run apt-get update/install and pip anyway
#
# Assumes cargo/rustc are already installed (no rustup here).
set -euo pipefail

venv=${RSTAP_VENV:-/opt/rstap/venv}
vng_version=1.42          # verified to boot Debian 6.1 under TCG (scripts/VM-NOTES.md)
force=${RSTAP_SETUP_FORCE:-0}
export DEBIAN_FRONTEND=noninteractive

# build-essential           gcc/make for Kbuild (and the cc crate)
# linux-headers-amd64       the default build dir /lib/modules/VER/build
# linux-image-amd64         /boot/vmlinuz-VER booted in the VM, and /lib/modules/VER/kernel,
#                           from which virtme-ng loads 9p/virtio/overlay modules for the guest
# linux-image-rt-amd64,     the PREEMPT_RT flavor (VER-rt-amd64), for tests/vm_rt.rs and
#   linux-headers-rt-amd64  `rstapc -r VER-rt-amd64`; never the default target
# linux-image-6.12-amd64,   bookworm's second kernel line (from bookworm-security), plain
#   linux-headers-6.12-amd64, and PREEMPT_RT, beside 6.1: the runtime tests boot the newest
#   linux-image-6.12-rt-amd64, of each line, vm_rt both RT kernels. These metapackages
#   linux-headers-6.12-rt-amd64 follow the newest 6.12 ABI, as linux-image-amd64 does 6.1's.
# qemu-system-x86           the VM (TCG)
# python3-venv              venv + ensurepip for virtme-ng
# busybox-static, kmod      virtme-ng's initramfs (busybox, modprobe/insmod/depmod); insmod/rmmod in the guest
# util-linux, coreutils     dmesg, timeout (normally present already)
# prometheus                promtool, which checks the text the prometheus probe serves
# systemtap-common          SystemTap's own tapset library, which the pass-1 tests parse in place
# dwarves                   pahole: kernels whose headers ship vmlinux (6.12) give every module
#                           its BTF at the end of Kbuild, and that step fails without it
packages=(build-essential linux-headers-amd64 linux-image-amd64
          linux-headers-rt-amd64 linux-image-rt-amd64
          linux-image-6.12-amd64 linux-headers-6.12-amd64
          linux-image-6.12-rt-amd64 linux-headers-6.12-rt-amd64 qemu-system-x86
          python3-venv busybox-static kmod util-linux coreutils ca-certificates prometheus
          systemtap-common dwarves)

[[ $(id -u) == 0 ]] || { echo "setup: must run as root" >&2; exit 1; }

missing=()
for p in "${packages[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $st == installed ]] || missing+=("$p")
done
if ((${#missing[@]})) || [[ $force == 1 ]]; then
    echo "setup: apt-get update; installing: ${missing[*]:-(forced) ${packages[*]}}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
    echo "setup: apt packages already installed: ${packages[*]}"
fi

# The kernel the VM boots must have its headers: linux-image-amd64 and
# linux-headers-amd64 move together (as do the -rt- pair), but check each pair
# exists. vm-run.sh picks them as rstapc does: the plain flavor is the default.
here=$(cd "$(dirname "$0")" && pwd)
kver=$("$here/vm-run.sh" --print-kernel 2>/dev/null) || kver=
[[ -n $kver ]] || { echo "setup: no kernel with image + headers + modules" >&2; exit 1; }
echo "setup: VM kernel $kver (/boot/vmlinuz-$kver, /lib/modules/$kver/build)"
rtver=$("$here/vm-run.sh" --print-rt-kernel 2>/dev/null) || rtver=
if [[ -z $rtver ]]; then
    echo "setup: no PREEMPT_RT kernel with image + headers + modules: linux-image-rt-amd64" \
         "$(dpkg-query -W -f='${Version}' linux-image-rt-amd64 2>/dev/null) and linux-headers-rt-amd64" \
         "$(dpkg-query -W -f='${Version}' linux-headers-rt-amd64 2>/dev/null) must name the same kernel" >&2
    exit 1
fi
echo "setup: PREEMPT_RT kernel $rtver (rstapc -r $rtver; tests/vm_rt.rs)"

have_vng=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("virtme-ng"))' 2>/dev/null || true)
if [[ $have_vng == "$vng_version" && -x $venv/bin/vng && $force != 1 ]]; then
    echo "setup: $venv has virtme-ng $have_vng"
else
    echo "setup: creating $venv with virtme-ng==$vng_version (had: ${have_vng:-none})"
    mkdir -p "$(dirname "$venv")"
    [[ -x $venv/bin/python ]] || /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "virtme-ng==$vng_version"
fi

if command -v cargo >/dev/null || [[ -x $HOME/.cargo/bin/cargo ]]; then
    echo "setup: cargo present ($(PATH="$HOME/.cargo/bin:$PATH" cargo --version))"
else
    echo "setup: WARNING: cargo not found (this script does not install Rust)" >&2
fi
echo "setup: done. Put $venv/bin on PATH (vng runs virtme-run by name); scripts/vm-run.sh does it."
