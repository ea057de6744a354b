#!/bin/sh
# Build tests/transport/rs_ttest.ko against the target kernel's build dir.
# usage: tests/transport/build.sh [OUTDIR] [KBUILD_DIR]   (prints the .ko path)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-${TMPDIR:-/tmp}/rs_ttest.build}
kdir=${2:-/lib/modules/6.1.0-56-amd64/build}
mkdir -p "$out"
cp "$here/rs_ttest.c" "$out/"
ln -sfn "$root/runtime-c" "$out/runtime"
printf 'obj-m := rs_ttest.o\nccflags-y := -Werror\n' > "$out/Kbuild"
make -s -C "$kdir" M="$out" modules >&2
echo "$out/rs_ttest.ko"
